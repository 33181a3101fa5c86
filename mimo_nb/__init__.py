"""mimo_nb: a Jupyter-native toolkit for Xiaomi MiMo's video-understanding API.

See the frames the model sees, what they cost, and ask the model about them from a notebook:

>>> import mimo_nb as mn
>>> mn.explain_video_tokens(60, 1920, 1080, fps=2)          # the spec's formula, step by step
>>> mn.estimate_cost(17240, mn.load_prices("mimo-v2.5", "CNY"), output_tokens=800)
"""

from __future__ import annotations

from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CacheError,
    CacheMissError,
    ContextLengthError,
    LimitError,
    MimoError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    VideoError,
)
from .pricing import (
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
from .tokens import (
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
    plan_sampling,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # errors
    "MimoError", "LimitError", "ContextLengthError", "VideoError", "APIError", "BadRequestError",
    "AuthenticationError", "RateLimitError", "ServerError", "APIConnectionError", "APITimeoutError",
    "StreamInterruptedError", "CacheError", "CacheMissError",
    # tokens
    "FPS_MIN", "FPS_MAX", "FPS_DEFAULT", "MEDIA_RESOLUTIONS", "SamplingPlan", "TokenBreakdown",
    "plan_sampling", "estimate_audio_tokens", "estimate_video_tokens", "explain_video_tokens",
    "estimate_video_tokens_array", "explain_video_tokens_array",
    # pricing
    "Prices", "Cost", "ContextCheck", "load_prices", "estimate_cost", "cost_from_usage",
    "context_length", "check_context", "estimate_text_tokens",
]
