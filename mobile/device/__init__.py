"""Devices behind facades (APP.md): each with an Android implementation and a fake for
the desktop and the tests. Callbacks may come from any thread: the UI marshals them."""
