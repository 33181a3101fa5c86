"""Shared test helpers: system requirements that skip locally and fail in CI."""
from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str, why: str) -> str:
    """Return the path of system program ``name``; skip without it, except in CI where it fails."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why}); .ci/run installs it with apt-get"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real key: they run the same with or without MIMO_API_KEY set."""
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    monkeypatch.delenv("MIMO_NB_OFFLINE", raising=False)
