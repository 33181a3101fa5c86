"""Ask MiMo about videos from a notebook: sync and async clients, retries, cache, batches.

>>> from mimo_nb.testing import MockMimoServer
>>> server = MockMimoServer(api_key="test-key").start()      # a local stand-in for the API
>>> client = MimoClient("test-key", base_url=server.base_url)
>>> client.build_request("clip.mp4", "What happens?").estimate.complete  # dry run: nothing sent
True
>>> done = client.ask("clip.mp4", "What happens?")          # a Completion
>>> done.usage.video_tokens                                 # (the stand-in's recorded answer)
1144
>>> for delta in client.ask("clip.mp4", "What happens?", stream=True):
...     pass                                                # delta.kind, delta.text
>>> client.map(["clip.mp4", "clip.mp4"], prompt="Describe it.", progress=False)
BatchResult(2 items, 0 failed)
>>> client.close(); server.stop()

**Deadlines.** ``timeout`` bounds a whole call, not one socket read: ``ask()`` and ``send()``
return or raise :class:`~mimo_nb.errors.APITimeoutError` within ``timeout`` seconds of being
called (connecting, uploading, waiting, every byte of the answer, retries and their waits), on
the monotonic clock. A streamed answer has its own deadline, ``stream_timeout`` (10 minutes by
default), counted from the call to the stream's last byte. An ``httpx.Timeout`` also bounds each
network operation by its fields (e.g. ``httpx.Timeout(60, connect=5)``: 60 s for the call, 5 s
to connect) and the call by the largest of them. ``None`` waits for ever.

All HTTP goes through the network seam (:mod:`mimo_nb.net.http`, the one module that meets
httpx), where httpx's exceptions are translated into the :mod:`mimo_nb.errors` tree. Retries
(tenacity) cover 429, 5xx, connection errors and timeouts, with exponential backoff and jitter,
honouring ``Retry-After``, while the deadline leaves time; other 4xx are never retried. The API
key is sent as the ``api-key`` header, like the spec's curl; it is checked when the client is
built, and never appears in a repr, an exception (the server's words are redacted before they
are shortened), a log line or the cache.

The package's modules, one job each: ``_options`` (:class:`ClientOptions`, the options both
clients check and store once), ``_base`` (what both clients share: one call's settings, building
the request, the cache), ``_retry`` (the retry policy), ``_batch`` (:class:`BatchResult` and the
``map`` helpers), ``_sync`` (:class:`MimoClient`) and ``_async`` (:class:`AsyncMimoClient`).
"""

from mimo_nb.api.client._async import AsyncMimoClient
from mimo_nb.api.client._base import HEAD_TIMEOUT, PER_CALL_OPTIONS, PROBE_TIMEOUT
from mimo_nb.api.client._batch import BatchItem, BatchResult
from mimo_nb.api.client._options import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
)
from mimo_nb.api.client._retry import MAX_RETRY_AFTER
from mimo_nb.api.client._sync import MimoClient
from mimo_nb.api.request import PreparedRequest
from mimo_nb.api.streaming import AsyncCompletionStream, CompletionStream, StreamDelta

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "HEAD_TIMEOUT",
    "PROBE_TIMEOUT",
    "PER_CALL_OPTIONS",
    "MAX_RETRY_AFTER",
    "NOT_GIVEN",
    "NotGiven",
    "ClientOptions",
    "MimoClient",
    "AsyncMimoClient",
    "CompletionStream",
    "AsyncCompletionStream",
    "StreamDelta",
    "PreparedRequest",
    "BatchItem",
    "BatchResult",
]
