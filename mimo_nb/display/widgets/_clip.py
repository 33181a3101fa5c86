"""What the clip explorers share: a clip described by its controls (no video), with frame
size presets."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from mimo_nb.core import validate
from mimo_nb.display.plots import RESOLUTION_PRESETS
from mimo_nb.display.widgets._controls import (
    DESCRIPTION,
    LABEL_WIDTH,
    DurationSlider,
    SizeBox,
    duration_label,
    native_fps_dropdown,
    profile_dropdown,
)
from mimo_nb.display.widgets._engine import Explorer


def frame_size_presets() -> dict[str, tuple[int, int]]:
    """Preset names to (width, height): 360p to 4K, landscape and portrait.

    >>> frame_size_presets()["1080p portrait"]
    (1080, 1920)
    """
    presets: dict[str, tuple[int, int]] = {}
    for name, (width, height) in RESOLUTION_PRESETS.items():
        presets[f"{name} landscape"] = (width, height)
        presets[f"{name} portrait"] = (height, width)
    return presets


CUSTOM = "custom (width x height)"


class ClipExplorer(Explorer):
    """An explorer over a clip described by its controls (no video): duration, frame size,
    sound, profile and the file's frame rate.

    Shared by :class:`TokenCostExplorer` and :class:`BudgetExplorer`.
    """

    def _clip_controls(
        self, duration: float, preset: str, mute: bool, profile: str, native_fps: float
    ) -> None:
        duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
        native_fps = validate.positive("native_fps", native_fps)
        self.presets = frame_size_presets()
        validate.choice("preset", preset, [*self.presets, CUSTOM])
        self.duration = DurationSlider(
            duration,
            description="duration",
            style=DESCRIPTION,
            continuous_update=True,
            layout=w.Layout(width="100%"),
        )
        self.preset = w.Dropdown(
            options=[*self.presets, CUSTOM],
            value=preset,
            description="frame size",
            style=DESCRIPTION,
        )
        width, height = self.presets.get(preset, RESOLUTION_PRESETS["1080p"])
        box = {
            "min": 1,
            "max": 16384,
            "disabled": preset != CUSTOM,
            "layout": w.Layout(width="150px"),
            "style": {"description_width": "45px"},
        }
        self.width = SizeBox(value=width, description="width", **box)
        self.height = SizeBox(value=height, description="height", **box)
        self.sizes = w.HBox(
            [self.width, self.height], layout=w.Layout(margin=f"0 0 0 {LABEL_WIDTH}")
        )
        self.mute = w.Checkbox(
            value=mute,
            description="mute (no audio track)",
            style=DESCRIPTION,
            layout=w.Layout(width="auto"),
        )
        self.profile = profile_dropdown(profile)
        self.native_fps = native_fps_dropdown(native_fps)
        self.preset.observe(self._on_preset, names="value")

    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the current preset or custom size."""
        return int(self.width.value), int(self.height.value)

    def _native(self) -> float | None:
        """The file's frame rate a server profile counts from; None for the API (it does not)."""
        return float(self.native_fps.value) if self._server_profile() else None

    def _on_profile(self, _change: Any = None) -> None:
        super()._on_profile(_change)
        self.native_fps.disabled = not self._server_profile()

    def _on_preset(self, change: Any) -> None:
        custom = change["new"] == CUSTOM
        self.width.disabled = self.height.disabled = not custom
        if not custom:
            width, height = self.presets[change["new"]]
            with self.hold_trait_notifications():
                self.width.value, self.height.value = width, height
        self._on_change()

    def _profile_settings(self) -> str:
        """``, profile=..., native fps ...`` under a server profile; nothing for the API."""
        native = self._native()
        return "" if native is None else f", profile={self._profile_name()}, native fps {native:g}"

    def _clip_settings(self) -> str:
        width, height = self.frame_size()
        return (
            f"{duration_label(float(self.duration.value))}, {width}x{height}"
            f"{', muted' if self.mute.value else ''}{self._profile_settings()}"
        )
