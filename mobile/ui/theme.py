"""Sizes and colours in one place: touch targets in dp (at least 48), text in sp (the
phone's text size applies), colours never the only carrier of meaning."""

from __future__ import annotations

from kivy.metrics import dp, sp

TOUCH = dp(48)
PAD = dp(12)
GAP = dp(8)
ROW = dp(72)
TEXT = sp(16)
SMALL = sp(13)
TITLE = sp(20)
# The rep's text size (Settings), on top of the phone's own: rows grow with the text so
# that two lines still fit. Screens built after `set_text_size` use the new sizes.
TEXT_SIZES = {"small": 0.9, "normal": 1.0, "large": 1.2, "largest": 1.45}


def set_text_size(name: str) -> None:
    global ROW, TEXT, SMALL, TITLE
    scale = TEXT_SIZES.get(name, 1.0)
    TEXT, SMALL, TITLE = sp(16) * scale, sp(13) * scale, sp(20) * scale
    ROW = dp(72) * max(1.0, scale)


TABLET_MIN_WIDTH = dp(900)  # wider than this: list and detail side by side

INK = (0.13, 0.15, 0.18, 1)
MUTED = (0.38, 0.42, 0.47, 1)
PAPER = (0.98, 0.98, 0.97, 1)
CARD = (1, 1, 1, 1)
ACCENT = (0.05, 0.42, 0.62, 1)
ON_ACCENT = (1, 1, 1, 1)
NAV_IDLE = (0.22, 0.25, 0.3, 1)
GOOD = (0.12, 0.5, 0.25, 1)
WARN = (0.72, 0.42, 0.02, 1)
BAD = (0.7, 0.12, 0.12, 1)
TIER_COLOURS = {"A": (0.05, 0.42, 0.62, 1), "B": (0.3, 0.5, 0.35, 1), "C": (0.45, 0.45, 0.45, 1)}
