"""The desktop's camera: the rep chooses a picture file in a dialog (a Kivy file chooser
in a popup). Android uses the camera app instead (mobile.device.camera.PlyerCamera)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.label import Label
from kivy.uix.popup import Popup

from mobile.device.camera import PhotoCallback
from mobile.ui import theme
from mobile.ui.widgets import TouchButton

__all__ = ["IMAGE_PATTERNS", "FilePickerCamera"]

# fnmatch is case-sensitive on Linux: cameras write both .jpg and .JPG.
IMAGE_PATTERNS = [f"*.{ext}" for ext in ("jpg", "jpeg", "png", "webp", "heic")]
IMAGE_PATTERNS += [pattern.upper() for pattern in IMAGE_PATTERNS]


class FilePickerCamera:
    """`take(done)` opens the chooser; `done(path)` on "Use this photo", `done(None)` on Cancel."""

    def __init__(self, start: Path | None = None) -> None:
        self.start = start or _pictures_folder()
        self.popup: Popup | None = None  # the open dialog (tests drive it)
        self.chooser: FileChooserListView | None = None
        self.use_button: TouchButton | None = None
        self.cancel_button: TouchButton | None = None

    def take(self, done: PhotoCallback) -> None:
        Clock.schedule_once(lambda _dt: self._open(done))  # widgets belong to the UI thread

    def _open(self, done: PhotoCallback) -> None:
        chooser = FileChooserListView(path=str(self.start), filters=IMAGE_PATTERNS, show_hidden=False)
        hint = Label(
            text="Choose a photo (JPEG, PNG, WebP or HEIC), then 'Use this photo'.",
            font_size=theme.SMALL,
            size_hint_y=None,
            halign="left",
        )
        # Wrapped to the dialog's width, as tall as its lines.
        hint.bind(width=lambda label, width: setattr(label, "text_size", (width, None)))
        hint.bind(texture_size=lambda label, size: setattr(label, "height", size[1] + theme.GAP))
        use = TouchButton(text="Use this photo", disabled=True)
        cancel = TouchButton(text="Cancel", background_tint=theme.MUTED)
        buttons = BoxLayout(size_hint_y=None, height=theme.TOUCH, spacing=theme.GAP)
        buttons.add_widget(cancel)
        buttons.add_widget(use)
        content = BoxLayout(orientation="vertical", spacing=theme.GAP)
        for widget in (hint, chooser, buttons):
            content.add_widget(widget)
        popup = Popup(title="Add a photo", content=content, size_hint=(0.95, 0.9), auto_dismiss=False)

        def selection_changed(_chooser: Any, selection: list[str]) -> None:
            use.disabled = not (selection and Path(selection[0]).is_file())

        def finish(path: Path | None) -> None:
            popup.dismiss()
            self.popup = self.chooser = None
            done(path)

        chooser.bind(selection=selection_changed)
        use.bind(on_release=lambda _button: finish(Path(chooser.selection[0])))
        cancel.bind(on_release=lambda _button: finish(None))
        self.popup, self.chooser = popup, chooser
        self.use_button, self.cancel_button = use, cancel
        popup.open()


def _pictures_folder() -> Path:
    home = Path.home()
    for name in ("Pictures", "Images", "Bilder"):
        if (home / name).is_dir():
            return home / name
    return home
