"""The response cache: content-addressed, atomic, corruption-tolerant, secret-free, offline
replay."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from mimo_nb.api.cache import ResponseCache, request_key
from mimo_nb.api.client import AsyncMimoClient, MimoClient
from mimo_nb.api.request import file_part, prepare_request
from mimo_nb.errors import CacheError, CacheMissError
from mimo_nb.net.http import offline_from_env

from server_fixtures import KEY, URL, server, srv  # noqa: F401  (pytest fixtures)


def client_for(srv, cache, **kw) -> MimoClient:
    return MimoClient(
        kw.pop("api_key", KEY), base_url=srv.base_url, cache=cache, retry_base_delay=0.001, **kw
    )


def test_second_ask_is_replayed_from_the_cache(srv, tmp_path: Path):
    client = client_for(srv, tmp_path / "c")
    first = client.ask(URL, "q")
    second = client.ask(URL, "q")
    assert len(srv.requests) == 1
    assert first.origin == "live" and second.origin == "cache"
    assert second.raw == first.raw and second.usage == first.usage
    assert second.estimate is not None
    client.ask(URL, "another question")
    assert len(srv.requests) == 2


def test_cache_files_hold_no_secret_and_no_temp_files(srv, tmp_path: Path):
    root = tmp_path / "c"
    client_for(srv, root).ask(URL, "q", system="sys")
    list(client_for(srv, root).ask(URL, "q2", stream=True))
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 2 and all(p.suffix == ".json" for p in files)
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8")
    assert KEY not in repr(ResponseCache(root))


def test_offline_replays_without_key_and_misses_raise(srv, tmp_path: Path, monkeypatch):
    root = tmp_path / "c"
    client_for(srv, root).ask(URL, "q")
    offline = client_for(srv, root, api_key=None, offline=True)
    assert offline.ask(URL, "q").origin == "cache"  # no key needed to replay
    with pytest.raises(CacheMissError, match="not in the cache"):
        offline.ask(URL, "never asked")
    assert len(srv.requests) == 1
    monkeypatch.setenv("MIMO_NB_OFFLINE", "1")
    assert client_for(srv, root).offline is True
    with pytest.raises(CacheMissError):
        client_for(srv, root).ask(URL, "also never asked")
    with pytest.raises(CacheMissError, match="no cache is set"):
        client_for(srv, None).ask(URL, "q")
    assert len(srv.requests) == 1


def test_offline_from_env_values():
    assert offline_from_env({"MIMO_NB_OFFLINE": "1"}) and offline_from_env(
        {"MIMO_NB_OFFLINE": "true"}
    )
    assert not offline_from_env({"MIMO_NB_OFFLINE": "0"}) and not offline_from_env({})


def test_corrupted_entry_warns_and_is_refetched(srv, tmp_path: Path):
    root = tmp_path / "c"
    client = client_for(srv, root)
    client.ask(URL, "q")
    (entry,) = root.rglob("*.json")
    entry.write_text('{"truncated": ', encoding="utf-8")
    with pytest.warns(RuntimeWarning, match="unreadable cache entry"):
        again = client.ask(URL, "q")
    assert again.origin == "live" and len(srv.requests) == 2
    assert client.ask(URL, "q").origin == "cache"  # the entry was rewritten
    entry.write_text(json.dumps({"key": "other", "response": {}}), encoding="utf-8")
    with pytest.warns(RuntimeWarning, match="malformed cache entry"):
        assert client.ask(URL, "q").origin == "live"


def test_key_is_the_hash_of_video_bytes_not_paths(tmp_path: Path):
    a, b, c = tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    c.write_bytes(b"other bytes")

    def key(path: Path) -> str:
        return request_key(prepare_request([file_part(path)], "q").cache_material())

    assert key(a) == key(b) != key(c)
    cache = ResponseCache(tmp_path / "store")
    material = prepare_request([file_part(a)], "q").cache_material()
    path = cache.put(material, {"choices": []})
    assert path.name == f"{request_key(material)}.json" and cache.get(material) == {"choices": []}
    assert "same bytes" not in path.read_text() and len(cache) == 1


def test_stream_answer_is_cached_and_replayed_as_a_stream(srv, tmp_path: Path):
    client = client_for(srv, tmp_path / "c")
    live = client.ask(URL, "q", stream=True)
    list(live)
    replay = client.ask(URL, "q", stream=True)
    kinds = [d.kind for d in replay]
    assert kinds == ["reasoning", "content"] and replay.completion.origin == "cache"
    assert replay.completion.content == live.completion.content
    assert client.ask(URL, "q").origin == "cache"  # streamed or not: the same request
    assert len(srv.requests) == 1


def test_unwritable_cache_is_a_cache_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="cannot write"):
        ResponseCache(blocker).put({"a": 1}, {"b": 2})


def test_async_client_uses_the_cache(srv, tmp_path: Path):
    async def main():
        async with AsyncMimoClient(KEY, base_url=srv.base_url, cache=tmp_path / "c") as client:
            return [(await client.ask(URL, "q")).origin for _ in range(2)]

    assert asyncio.run(main()) == ["live", "cache"]
    assert len(srv.requests) == 1
    assert not any(name.endswith(".tmp") for _, _, names in os.walk(tmp_path) for name in names)
