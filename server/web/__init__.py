"""The managers' dashboard (WEB.md): pages served by the same process as the API."""
