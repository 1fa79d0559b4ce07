"""The app's own small widget kit (no KivyMD): a button with a 48 dp touch target, a text
field with its inline error, a card. Their look is in widgets.kv."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen


class TouchButton(Button):
    """At least 48 dp high and wide, whatever its text."""

    background_tint = ListProperty([0.05, 0.42, 0.62, 1])


class Field(BoxLayout):
    """A labelled text input with the message of what is wrong with it, under it."""

    label = StringProperty("")
    text = StringProperty("")
    hint = StringProperty("")
    error = StringProperty("")


class Card(BoxLayout):
    pass


class Caption(Label):
    pass


class MessageScreen(Screen):
    """A screen with one line of feedback: green when something worked, red when it did not
    (the words say which too: colour is never the only signal)."""

    message = StringProperty("")
    message_is_good = BooleanProperty(False)

    def say(self, text: str, *, good: bool = False) -> None:
        self.message, self.message_is_good = text, good
