"""Shared test fixtures: no key in the environment, and the vendor's page."""

from __future__ import annotations

from pathlib import Path

import pytest

from system_requirements import IN_CI


@pytest.fixture(autouse=True)
def _no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real key: they run the same with or without MIMO_API_KEY set."""
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    monkeypatch.delenv("MIMO_NB_OFFLINE", raising=False)
    monkeypatch.delenv(
        "MIMO_BASE_URL", raising=False
    )  # the client reads it: tests name their server


# The vendor's page lives in shared/, beside the repository (CI clones the repo next to it).
SPEC_PAGE = (
    Path(__file__).resolve().parents[2] / "shared" / "spec" / "mimo-video-understanding.zh.txt"
)


@pytest.fixture(scope="session")
def spec_page_text() -> str:
    """The vendor page's text; skips when shared/ is not beside the repo, fails so in CI."""
    if not SPEC_PAGE.exists():
        message = f"the spec page is not at {SPEC_PAGE} (shared/ must sit beside the repository)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return SPEC_PAGE.read_text(encoding="utf-8")
