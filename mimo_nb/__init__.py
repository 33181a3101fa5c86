"""mimo_nb: a Jupyter-native toolkit for Xiaomi MiMo's video-understanding API.

See the frames the model sees, what they cost, and ask the model about them from a notebook:

>>> import mimo_nb as mn
>>> mn.explain_video_tokens(60, 1920, 1080, fps=2).total    # the spec's formula, step by step
17240
>>> mn.estimate_cost(17240, mn.load_prices("mimo-v2.5", "CNY"), output_tokens=800).total
0.01884
>>> video = mn.Video.open(mn.generate_clip("clip.mp4", duration=4))
>>> video.sample(fps=1)                                    # the frames the model sees
<Frames 4 x 320x256 (model) fps=1 repeated=False>
>>> mn.FrameExplorer(video)                                # sliders over fps, media_resolution
<FrameExplorer fps=2, media_resolution=default, frames shown at model size>
>>> mn.MimoClient().build_request(video, "Describe it.")  # doctest: +ELLIPSIS
PreparedRequest(model='mimo-v2.5', videos=[data:clip.mp4], estimated_prompt_tokens=373, bytes=...)
>>> corpus = mn.Corpus.scan("videos/")                     # thousands of files: scan, forecast, ask

``build_request`` shows the exact request and sends nothing; the size in bytes of the encoded
clip depends on the machine's x264 build, hence the ``...``.

This top level is the everyday surface (``__all__``, pinned by a test); everything else is one
import away in its layer: :mod:`mimo_nb.core` (tokens, profiles, budget, pricing, limits),
:mod:`mimo_nb.media` (video, decode, encode, samples), :mod:`mimo_nb.net` (the http seam),
:mod:`mimo_nb.api` (clients, streaming, cache, responses), :mod:`mimo_nb.display` (render,
plots, widgets, report) and :mod:`mimo_nb.corpus`. The errors and the pure core are imported at
once; the rest on first use, so ``import mimo_nb`` stays quick and pulls in no display, media or
HTTP library until one is needed.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from . import _moved
from .core import display_hook as _display_hook
from .core.budget import plan_budget
from .core.pricing import Prices, estimate_cost, load_prices
from .core.profiles import explain_profile_tokens, plan_sampling
from .core.times import find_times
from .core.tokens import estimate_video_tokens, estimate_video_tokens_array, explain_video_tokens
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CacheError,
    CacheMissError,
    ConfigurationError,
    ContextLengthError,
    InternalServerError,
    LimitError,
    MimoError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
    VideoError,
)

__version__ = "0.2.0"

_moved.install()  # the flat module paths of 0.1 (mimo_nb.tokens, mimo_nb.client, ...) still import
# Values of the lower layers render through the hook; the display layer is imported on first need.
_display_hook.set_loader(lambda: importlib.import_module(".display", __name__))

# Public names whose modules have heavier imports: name -> module, loaded on first use.
_LAZY: dict[str, str] = {
    "Video": "media.video",
    "Frames": "media.frames",
    "generate_clip": "media.samples",
    "MimoClient": "api.client",
    "AsyncMimoClient": "api.client",
    "Completion": "api.response",
    "ResponseCache": "api.cache",
    "compare_profiles": "display.compare",
    "FrameExplorer": "display.widgets",
    "TokenCostExplorer": "display.widgets",
    "BudgetExplorer": "display.widgets",
    "write_report": "display.report",
    "Corpus": "corpus",
    "sweep": "corpus.sweep",
}

# Names the top level had in 0.1 and no longer lists: they still resolve, with a warning that says
# where each lives now (one import away).
_FORMER: dict[str, str] = {
    **dict.fromkeys(
        [
            "FPS_MIN",
            "FPS_MAX",
            "FPS_DEFAULT",
            "MEDIA_RESOLUTIONS",
            "SamplingPlan",
            "TokenBreakdown",
            "estimate_audio_tokens",
            "explain_video_tokens_array",
        ],
        "core.tokens",
    ),
    **dict.fromkeys(
        [
            "Cost",
            "ContextCheck",
            "cost_from_usage",
            "context_length",
            "check_context",
            "estimate_text_tokens",
        ],
        "core.pricing",
    ),
    **dict.fromkeys(
        ["PROFILES", "Profile", "ServerTokenBreakdown", "get_profile"], "core.profiles"
    ),
    **dict.fromkeys(
        ["BudgetPlan", "BudgetSetting", "BudgetTable", "plan_budget_many"], "core.budget"
    ),
    **dict.fromkeys(
        ["MIME_TYPES", "SUPPORTED_FORMATS", "BASE64_LIMIT_BYTES", "URL_LIMIT_BYTES"], "core.limits"
    ),
    "decode_backend": "media.decode",
    **dict.fromkeys(
        ["CompletionStream", "AsyncCompletionStream", "StreamDelta", "BatchItem", "BatchResult"],
        "api.client",
    ),
    **dict.fromkeys(["PreparedRequest", "RequestEstimate"], "api.request"),
    **dict.fromkeys(["Usage", "spec_example_completion"], "api.response"),
    **dict.fromkeys(
        [
            "plot_tokens_vs_fps",
            "plot_tokens_vs_duration",
            "plot_tokens_vs_frame_size",
            "plot_cost",
            "plot_estimate_vs_actual",
            "cap_points",
            "plot_tokens_vs_fps_by_profile",
            "plot_budget_frontier",
        ],
        "display.plots",
    ),
    "ProfileComparison": "display.compare",
    **dict.fromkeys(["display_stream", "display_stream_async"], "display.widgets"),
    "build_report": "display.report",
}

if TYPE_CHECKING:  # what static checkers and IDEs see; at run time __getattr__ imports on demand
    from .api.cache import ResponseCache
    from .api.client import AsyncMimoClient, MimoClient
    from .api.response import Completion
    from .corpus import Corpus
    from .corpus.sweep import sweep
    from .display.compare import compare_profiles
    from .display.report import write_report
    from .display.widgets import BudgetExplorer, FrameExplorer, TokenCostExplorer
    from .media.frames import Frames
    from .media.samples import generate_clip
    from .media.video import Video


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None and name in _FORMER:
        module = _FORMER[name]
        warnings.warn(
            f"mimo_nb.{name} is no longer on the top level: from mimo_nb.{module} import {name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(f".{module}", __name__), name)
    if module is None:
        raise AttributeError(f"module 'mimo_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    # the error tree
    "MimoError",
    "LimitError",
    "ContextLengthError",
    "ConfigurationError",
    "VideoError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "CacheError",
    "CacheMissError",
    # tokens, frames, money: the pure core
    "explain_video_tokens",
    "estimate_video_tokens",
    "estimate_video_tokens_array",
    "plan_sampling",
    "explain_profile_tokens",
    "plan_budget",
    "Prices",
    "load_prices",
    "estimate_cost",
    "find_times",
    # videos, clients, studies, explorers (loaded on first use)
    *_LAZY,
]
