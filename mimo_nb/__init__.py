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

The pure core (tokens, pricing, limits, errors) is imported at once; the rest (video, client,
plots, widgets, report) is imported on first use, so ``import mimo_nb`` stays quick and does
not pull in matplotlib or ipywidgets until they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _moved
from .core import display_hook as _display_hook
from .core.budget import BudgetPlan, BudgetSetting, BudgetTable, plan_budget, plan_budget_many
from .core.limits import BASE64_LIMIT_BYTES, MIME_TYPES, SUPPORTED_FORMATS, URL_LIMIT_BYTES
from .core.pricing import (
    ContextCheck,
    Cost,
    Prices,
    check_context,
    context_length,
    cost_from_usage,
    estimate_cost,
    estimate_text_tokens,
    load_prices,
)
from .core.profiles import (
    PROFILES,
    Profile,
    ServerTokenBreakdown,
    explain_profile_tokens,
    get_profile,
    plan_sampling,
)
from .core.tokens import (
    FPS_DEFAULT,
    FPS_MAX,
    FPS_MIN,
    MEDIA_RESOLUTIONS,
    SamplingPlan,
    TokenBreakdown,
    estimate_audio_tokens,
    estimate_video_tokens,
    estimate_video_tokens_array,
    explain_video_tokens,
    explain_video_tokens_array,
)
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

__version__ = "0.1.0"

_moved.install()  # the flat module paths of 0.1 (mimo_nb.tokens, mimo_nb.client, ...) still import
# Values of the lower layers render through the hook; the display layer is imported on first need.
_display_hook.set_loader(lambda: importlib.import_module(".display", __name__))

# Public names that live in modules with heavier imports: name -> module, loaded on first use.
_LAZY: dict[str, str] = {
    "Video": "media.video",
    "Frames": "media.video",
    "decode_backend": "media.decode",
    "generate_clip": "media.samples",
    "MimoClient": "api.client",
    "AsyncMimoClient": "api.client",
    "CompletionStream": "api.client",
    "AsyncCompletionStream": "api.client",
    "StreamDelta": "api.client",
    "BatchItem": "api.client",
    "BatchResult": "api.client",
    "PreparedRequest": "api.request",
    "Completion": "api.response",
    "Usage": "api.response",
    "RequestEstimate": "api.request",
    "spec_example_completion": "api.response",
    "ResponseCache": "api.cache",
    "plot_tokens_vs_fps": "display.plots",
    "plot_tokens_vs_duration": "display.plots",
    "plot_tokens_vs_frame_size": "display.plots",
    "plot_cost": "display.plots",
    "plot_estimate_vs_actual": "display.plots",
    "cap_points": "display.plots",
    "plot_tokens_vs_fps_by_profile": "display.plots",
    "plot_budget_frontier": "display.plots",
    "compare_profiles": "display.compare",
    "ProfileComparison": "display.compare",
    "FrameExplorer": "display.widgets",
    "TokenCostExplorer": "display.widgets",
    "BudgetExplorer": "display.widgets",
    "display_stream": "display.widgets",
    "display_stream_async": "display.widgets",
    "build_report": "display.report",
    "write_report": "display.report",
    "Corpus": "corpus",
}

if TYPE_CHECKING:  # what static checkers and IDEs see; at run time __getattr__ imports on demand
    from .api.cache import ResponseCache
    from .api.client import (
        AsyncCompletionStream,
        AsyncMimoClient,
        BatchItem,
        BatchResult,
        CompletionStream,
        MimoClient,
        StreamDelta,
    )
    from .api.request import PreparedRequest, RequestEstimate
    from .api.response import Completion, Usage, spec_example_completion
    from .corpus import Corpus
    from .display.compare import ProfileComparison, compare_profiles
    from .display.plots import (
        cap_points,
        plot_budget_frontier,
        plot_cost,
        plot_estimate_vs_actual,
        plot_tokens_vs_duration,
        plot_tokens_vs_fps,
        plot_tokens_vs_fps_by_profile,
        plot_tokens_vs_frame_size,
    )
    from .display.report import build_report, write_report
    from .display.widgets import (
        BudgetExplorer,
        FrameExplorer,
        TokenCostExplorer,
        display_stream,
        display_stream_async,
    )
    from .media.decode import decode_backend
    from .media.samples import generate_clip
    from .media.video import Frames, Video


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mimo_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    # errors
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
    # tokens
    "FPS_MIN",
    "FPS_MAX",
    "FPS_DEFAULT",
    "MEDIA_RESOLUTIONS",
    "SamplingPlan",
    "TokenBreakdown",
    "plan_sampling",
    "estimate_audio_tokens",
    "estimate_video_tokens",
    "explain_video_tokens",
    "estimate_video_tokens_array",
    "explain_video_tokens_array",
    # pricing
    "Prices",
    "Cost",
    "ContextCheck",
    "load_prices",
    "estimate_cost",
    "cost_from_usage",
    "context_length",
    "check_context",
    "estimate_text_tokens",
    # profiles and the budget planner
    "PROFILES",
    "Profile",
    "ServerTokenBreakdown",
    "explain_profile_tokens",
    "get_profile",
    "BudgetPlan",
    "BudgetSetting",
    "BudgetTable",
    "plan_budget",
    "plan_budget_many",
    # limits
    "MIME_TYPES",
    "SUPPORTED_FORMATS",
    "BASE64_LIMIT_BYTES",
    "URL_LIMIT_BYTES",
    # loaded on first use
    *_LAZY,
]
