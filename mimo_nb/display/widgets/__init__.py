"""Notebook widgets: see the frames the model sees, what they cost, and answers as they stream.

* :class:`FrameExplorer` -- an fps slider, the ``default``/``max`` toggle and a model/native size
  toggle beside the sampled frames, their count, the model frame size, the token breakdown and
  the estimated cost.
* :class:`TokenCostExplorer` -- no video needed: duration, fps, a frame size preset (or a custom
  size), the toggle and mute, with the breakdown and a live plot. For teaching the formula.
* :class:`BudgetExplorer` -- the formula run backwards: a ``max_tokens`` budget for a clip, with
  :func:`~mimo_nb.core.budget.plan_budget`'s best setting and its frontier.

Every explorer has a ``profile`` dropdown (:mod:`mimo_nb.core.profiles`): the hosted API's formula,
or a self-hosted server's rules, whose frames, frame size and tokens are then shown instead
(a server has no ``media_resolution``, so that toggle is disabled; a server counts frames from
the file's frame rate: the video's, or the ``native fps`` control where there is no video).

* :func:`display_stream` / :func:`display_stream_async` -- one output area updated in place as a
  streamed answer arrives (``await display_stream_async(stream)`` for the async client).

Every explorer shares one engine (:class:`Explorer`): the numbers follow every change at once;
the slow view (decoded frames, a plot) waits until the controls rest, is cached, and moving back
costs nothing. Values written by a browser are snapped to the control's grid before anything is
computed (JupyterLab's slider sends ``2.0000000000000004`` for 2), so what is shown always equals
the formula for the value the control displays.

Where widget JavaScript cannot run (nbconvert HTML opened offline, GitHub), each explorer still
shows a static snapshot of its state: it is displayed as its own output just before the widget,
and the live widget hides it (see :func:`mimo_nb.display.render.explorer_style`).

The modules behind this one, one job each: ``_controls`` (controls that stay on their grid),
``_engine`` (:class:`Explorer`), ``_frames`` (:class:`FrameExplorer`), ``_clip`` (what the
clip explorers share), ``_token_cost`` (:class:`TokenCostExplorer`), ``_budget``
(:class:`BudgetExplorer`) and ``_streaming`` (:func:`display_stream`). Their public names are
this package's (their ``__module__`` says so, as httpx does for its private modules).

>>> from mimo_nb.media.video import Video
>>> explorer = FrameExplorer(Video.open("clip.mp4"), fps=2)     # last value of a cell
>>> explorer.estimate().frames
4
>>> TokenCostExplorer(duration=60, fps=2).estimate().total
17240
"""

from __future__ import annotations

from mimo_nb.display.widgets._budget import BudgetExplorer
from mimo_nb.display.widgets._clip import CUSTOM, frame_size_presets
from mimo_nb.display.widgets._controls import (
    DURATIONS,
    FPS_STEP,
    LABEL_WIDTH,
    NATIVE_FPS,
    DurationSlider,
    GridSlider,
    SizeBox,
    snap_to_step,
)
from mimo_nb.display.widgets._engine import Apply, Explorer
from mimo_nb.display.widgets._frames import FrameExplorer
from mimo_nb.display.widgets._streaming import display_stream, display_stream_async
from mimo_nb.display.widgets._token_cost import TokenCostExplorer

__all__ = [
    "CUSTOM",
    "DURATIONS",
    "FPS_STEP",
    "LABEL_WIDTH",
    "NATIVE_FPS",
    "Apply",
    "BudgetExplorer",
    "DurationSlider",
    "Explorer",
    "FrameExplorer",
    "GridSlider",
    "SizeBox",
    "TokenCostExplorer",
    "display_stream",
    "display_stream_async",
    "frame_size_presets",
    "snap_to_step",
]

for _class in (
    BudgetExplorer,
    DurationSlider,
    Explorer,
    FrameExplorer,
    GridSlider,
    SizeBox,
    TokenCostExplorer,
):
    _class.__module__ = __name__  # the public home, as users import it
del _class
