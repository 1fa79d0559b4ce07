"""The Kivy app (APP.md): `app.py` builds the core objects and hands them to the screens;
kv files lay out and bind; screens hold the glue. Nothing here is imported by mobile.core."""
