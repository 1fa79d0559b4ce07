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
