"""Checked by mypy in test_client.py (not run): the types a client's options show.

Each line ending in ``# E: <words>`` must be an error whose message holds those words; every other
line must type-check. The options read as their types, and none can be assigned: mypy says so
before the ConfigurationError would at run time.
"""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import assert_type

from mimo_nb.api.cache import ResponseCache
from mimo_nb.api.client import AsyncMimoClient, ClientOptions, MimoClient
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import Profile
from mimo_nb.net.http import TimeoutArg


def reads(client: MimoClient | AsyncMimoClient) -> None:
    assert_type(client.options, ClientOptions)
    assert_type(client.base_url, str)
    assert_type(client.model, str)
    assert_type(client.timeout, TimeoutArg)
    assert_type(client.stream_timeout, float | None)
    assert_type(client.max_retries, int)
    assert_type(client.retry_base_delay, float)
    assert_type(client.retry_max_delay, float)
    assert_type(client.max_response_bytes, int)
    assert_type(client.cache, ResponseCache | None)
    assert_type(client.offline, bool)
    assert_type(client.prices, Prices | None)
    assert_type(client.context_lengths, Mapping[str, int] | None)
    assert_type(client.default_headers, Mapping[str, str])
    assert_type(client.profile, str | Profile)
    assert_type(client.with_options(timeout=5), MimoClient | AsyncMimoClient)


def writes(client: MimoClient, aclient: AsyncMimoClient) -> None:
    client.timeout = 5  # E: Property "timeout" defined in "ClientBase" is read-only
    client.model = "mimo-v2-omni"  # E: Property "model" defined in "ClientBase" is read-only
    client.options = client.options  # E: Property "options" defined in "ClientBase" is read-only
    aclient.cache = None  # E: Property "cache" defined in "ClientBase" is read-only
    client.default_headers["x"] = "y"  # E: Unsupported target for indexed assignment
    client.options.max_retries = 0  # E: "max_retries" defined in "ClientOptions" is read-only
    client.tiemout = 5  # E: "MimoClient" has no attribute "tiemout"
