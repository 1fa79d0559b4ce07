"""ASGI entry point: `uvicorn server.asgi:app` (settings from the environment)."""

from server.app import create_app

app = create_app()
