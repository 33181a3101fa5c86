"""Controls that stay on their grid: the fps slider, round durations, whole pixels, and the
labelled toggles and dropdowns every explorer lays out in one column.

Values written by a browser are snapped to the control's grid before anything is computed
(JupyterLab's slider sends ``2.0000000000000004`` for 2), so what is shown always equals the
formula for the value the control displays.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import ipywidgets as w
import traitlets

from mimo_nb.core import validate
from mimo_nb.core.profiles import PROFILE_NAMES, get_profile
from mimo_nb.core.tokens import FPS_MAX, FPS_MIN, validate_fps
from mimo_nb.errors import LimitError

FPS_STEP = 0.1  # the API's fps grid
# Durations the explorer's slider stops at: round values, roughly log-spaced from 1 s to 3 h.
DURATIONS: tuple[float, ...] = (
    1,
    2,
    3,
    5,
    10,
    15,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    300,
    450,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
    5400,
    7200,
    10800,
)
# Frame rates a file may have, for the explorers without a video (server profiles count from it).
NATIVE_FPS: tuple[float, ...] = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)
LABEL_WIDTH = "130px"  # one column of labels, so every control lines up
DESCRIPTION = {"description_width": LABEL_WIDTH}


def _decimals(number: float) -> int:
    exponent = Decimal(str(number)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def snap_to_step(value: float, step: float, start: float = 0.0) -> float:
    """The point ``start + k * step`` nearest to ``value``, as the decimal a control displays.

    Float arithmetic in a browser leaves noise (``0.1 + 19 * 0.1`` is ``2.0000000000000004``);
    rounding to the step's decimals gives back the number the control shows.

    >>> snap_to_step(2.0000000000000004, 0.1, start=0.1)
    2.0
    >>> snap_to_step(0.30000000000000004, 0.1), snap_to_step(59.99999999999999, 1)
    (0.3, 60.0)
    """
    steps = round((float(value) - start) / step)
    return float(round(start + steps * step, max(_decimals(step), _decimals(start))))


class GridSlider(w.FloatSlider):
    """A FloatSlider whose value always lies on its grid, ``min + k * step``, whatever is written.

    Values from the front end (or from code) are clamped, then snapped, before any observer sees
    them. The snapped value is not sent back to the front end that sent the noisy one: it already
    shows that value (its readout rounds), and an update would race the user's next move (a
    slider dragged on while the kernel answered jumped back to where it had been).
    """

    @traitlets.validate("value")
    def _validate_value(self, proposal: Any) -> float:
        clamped = super()._validate_value(proposal)
        return snap_to_step(clamped, self.step, self.min)

    def _should_send_property(self, key: str, value: Any) -> bool:
        sent = self._property_lock.get(key) if key == "value" else None
        if isinstance(sent, (int, float)) and snap_to_step(sent, self.step, self.min) == value:
            if self._holding_sync:
                self._states_to_send.discard(key)
            return False
        return bool(super()._should_send_property(key, value))


def duration_label(seconds: float) -> str:
    """``45 s``, ``7.5 min``, ``2 h``: minutes and hours only where they are round (else
    seconds)."""
    if seconds < 120 or seconds % 30:
        return f"{seconds:g} s"
    if seconds < 7200 or seconds % 1800:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


class DurationSlider(w.SelectionSlider):
    """A slider over round durations (:data:`DURATIONS`, plus a starting value of your own).

    The browser sends the index of a stop, so the value is exactly the duration shown; a value
    written from code with float noise (``59.99999999999999``) lands on the stop it means.
    """

    def __init__(self, value: float, **kwargs: Any) -> None:
        stops = sorted({float(d) for d in DURATIONS} | {float(value)})
        super().__init__(
            options=[(duration_label(d), d) for d in stops], value=float(value), **kwargs
        )

    @traitlets.validate("value")
    def _validate_value(self, proposal: Any) -> Any:
        value = proposal.value
        if isinstance(value, (int, float)):
            near = [d for d in self._options_values if abs(d - value) <= 1e-9 * max(1.0, abs(d))]
            if near:
                return near[0]
            raise traitlets.TraitError(
                f"duration {value!r} is not a stop of this slider; pick one of "
                f"{', '.join(self._options_labels)} "
                f"(or start the explorer with duration={value!r})."
            )
        return super()._validate_value(proposal)


class _NearestInt(traitlets.CInt):
    """An int trait that rounds (1919.9999 -> 1920) instead of truncating, as int() would."""

    def validate(self, obj: Any, value: Any) -> int:
        if isinstance(value, float):
            value = round(value)
        return super().validate(obj, value)


class SizeBox(w.BoundedIntText):
    """A pixel count: whole pixels, whatever number the front end sends."""

    value = _NearestInt(0, help="Int value").tag(sync=True)


def fps_slider(value: float) -> GridSlider:
    return GridSlider(
        value=validate_fps(value),  # a slider would clamp a bad value silently
        min=FPS_MIN,
        max=FPS_MAX,
        step=FPS_STEP,
        description="fps",
        readout_format=".1f",
        continuous_update=True,
        style=DESCRIPTION,
        layout=w.Layout(width="100%"),
    )


def toggle(name: str, options: Sequence[Any], value: str) -> w.ToggleButtons:
    """Toggle buttons as wide as their labels (fixed widths cut "model view" to "model vi...")."""
    validate.choice(name, value, [o[1] if isinstance(o, tuple) else o for o in options])
    return w.ToggleButtons(options=options, value=value, style={"button_width": "auto"})


def profile_dropdown(value: str) -> w.Dropdown:
    """Whose rules the numbers follow: the hosted API's formula or a self-hosted server's."""
    name = get_profile(value).name  # an unknown name is refused here, with the known ones listed
    if name not in PROFILE_NAMES:
        raise LimitError(
            f"the explorers offer the profiles {', '.join(PROFILE_NAMES)}; got {value!r}."
        )
    return w.Dropdown(
        options=list(PROFILE_NAMES), value=name, description="profile", style=DESCRIPTION
    )


def native_fps_dropdown(value: float) -> w.Dropdown:
    """The file's frame rate, for a server profile where no video gives it (exact values only)."""
    options = sorted({*NATIVE_FPS, float(value)})
    return w.Dropdown(
        options=[(f"{v:g}", v) for v in options],
        value=float(value),
        description="native fps",
        style=DESCRIPTION,
    )


def labelled(label: str, control: w.DOMWidget) -> w.HBox:
    """``control`` with its label on the left, right-aligned in the labels' column.

    ToggleButtons put their own description above the buttons; this keeps one line per control.
    """
    tag = w.Label(
        label,
        layout=w.Layout(
            width=LABEL_WIDTH,
            flex="0 0 auto",
            display="flex",
            justify_content="flex-end",
            margin="0 8px 0 0",
        ),
    )
    return w.HBox([tag, control])
