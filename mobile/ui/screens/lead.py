"""A new lead: a name, who to ask for, a phone, where (typed, or here from the GPS), a note,
a photo.
Warns when a customer already stands within 50 m: open it rather than make a duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from mobile.ui.photos import PhotoRefused, keep_photo
from mobile.ui.widgets import MessageScreen

DUPLICATE_RADIUS_M = 50.0


class LeadScreen(MessageScreen):
    nearby_name = StringProperty("")
    nearby_id = StringProperty("")
    located = StringProperty("")
    confirmed = BooleanProperty(False)
    photo_name = StringProperty("")  # the chosen photo, shown under its button

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._location: dict[str, float] | None = None
        self._photo: Path | None = None  # kept in the app's folder, recorded with the lead

    def on_pre_enter(self, *_args: Any) -> None:
        for name in ("name", "contact", "phone", "street", "city", "note"):
            self.ids[name].text = ""
            self.ids[name].error = ""
        self.message = self.nearby_name = self.nearby_id = self.located = ""
        self.confirmed = False
        self._location = None
        if self._photo is not None:
            self._photo.unlink(missing_ok=True)  # chosen for a lead that was never saved
        self._photo = None
        self.photo_name = ""

    def add_photo(self) -> None:
        App.get_running_app().services.camera.take(lambda path: Clock.schedule_once(lambda _dt: self._chosen(path)))

    def _chosen(self, path: Path | None) -> None:
        if path is None:
            return  # cancelled: a photo chosen before stays
        app = App.get_running_app()
        try:
            kept = keep_photo(Path(app.data_dir), path)
        except PhotoRefused as refused:
            self.say(str(refused))
            return
        if self._photo is not None:
            self._photo.unlink(missing_ok=True)  # replaced before it was recorded
        self._photo = kept
        self.photo_name = f"Photo: {path.name} ({kept.stat().st_size / 1e6:.1f} MB), sent after the lead"
        self.say("")

    def use_my_location(self) -> None:
        fix = App.get_running_app().services.location.last_fix
        if fix is None:
            self.message = "No GPS fix yet: type the address, or try again outdoors."
            return
        self._location = {"lat": fix.lat, "lon": fix.lon}
        accuracy = f" (within {fix.accuracy_m:.0f} m)" if fix.accuracy_m is not None else ""
        self.located = f"Here: {fix.lat:.5f}, {fix.lon:.5f}{accuracy}"
        self._check_duplicates()

    def _check_duplicates(self) -> None:
        if self._location is None:
            return
        near = App.get_running_app().services.work.customers_near(
            self._location["lat"], self._location["lon"], radius_m=DUPLICATE_RADIUS_M, limit=1
        )
        if near:
            self.nearby_name = str(near[0].customer.get("name"))
            self.nearby_id = near[0].customer["id"]

    def open_existing(self) -> None:
        if self.nearby_id:
            self.manager.get_screen("customer").show(self.nearby_id)

    def save(self) -> None:
        ids = self.ids
        name = ids.name.text.strip()
        ids.name.error = "" if name else "The business's name"
        phone = ids.phone.text.strip()
        ids.phone.error = "" if not phone or sum(c.isdigit() for c in phone) >= 6 else "A phone number has digits"
        if ids.name.error or ids.phone.error:
            return
        if self.nearby_name and not self.confirmed:
            self.confirmed = True  # the next tap creates it anyway
            self.message = f"'{self.nearby_name}' is already here. Open it, or tap Save again to add a new lead."
            return
        app = App.get_running_app()
        work = app.services.work
        fields: dict[str, Any] = {}
        if phone:
            fields["phone"] = phone
        for key in ("street", "city"):
            if ids[key].text.strip():
                fields[key] = ids[key].text.strip()
        if self._location is not None:
            fields["location"] = self._location
        customer_id = work.create_lead(name, **fields)
        if ids.contact.text.strip():
            work.add_contact(customer_id, ids.contact.text.strip(), **({"phone": phone} if phone else {}))
        if ids.note.text.strip():
            work.add_note(customer_id, ids.note.text.strip(), kind="note")
        if self._photo is not None:
            work.add_photo(customer_id, self._photo)
            self._photo = None
        app.after_write()
        self.manager.get_screen("customer").show(customer_id)
