"""The documentation site (``make docs``), opened in Chromium as a reader would.

An API page must show ``plan_budget`` with its signature and types; a notebook page must show its
committed outputs: the frame grids and plots as loaded images and the FrameExplorer's static
snapshot (the live widget needs a kernel). Every page is served from 127.0.0.1; a request
elsewhere (a CDN script, a web font) fails the test, as does any console error.

``make test`` builds the site before the tests run; run alone, this module builds it into a
temporary folder (about 30 s).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mimo_nb

from browser_fixtures import (
    assert_shown,
    browser,  # noqa: F401  (a fixture, named by the tests' parameters)
    images,
    open_page,
    screenshot,
    serve,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / "docs" / "_build" / "html"


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site on a 127.0.0.1 server (``make docs``'s, else built here); its base URL."""
    pytest.importorskip("sphinx", reason="the docs tools are in the dev extra")
    html = BUILT
    if not (html / "index.html").exists():
        html = tmp_path_factory.mktemp("docs") / "html"
        done = subprocess.run(
            [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
            + [str(ROOT / "docs"), str(html)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    server, base = serve(html)
    try:
        yield base
    finally:
        server.shutdown()


def test_api_page_shows_signatures(browser: Any, docs_site: str) -> None:
    page, report = open_page(
        browser, f"{docs_site}/_generated/api/mimo_nb.core.budget.html", wait_for="dl.py"
    )
    signature = page.locator("dt#mimo_nb\\.core\\.budget\\.plan_budget")
    assert signature.is_visible()
    text = " ".join(signature.inner_text().split())
    assert text.startswith("plan_budget(video"), text
    for part in ("max_tokens: int | None = None", "profile: str | Profile", ") → BudgetPlan"):
        assert part in text, (part, text)
    body = signature.locator("xpath=following-sibling::dd[1]").inner_text()
    assert mimo_nb.plan_budget.__doc__.split()[0] in body  # and the docstring
    screenshot(page, "docs-api-budget.png")
    report.assert_clean()
    page.close()


def test_surface_page_links_every_top_level_name(browser: Any, docs_site: str) -> None:
    page, report = open_page(browser, f"{docs_site}/api/index.html", wait_for="table")
    linked = set(page.locator("table a.reference.internal code").all_inner_texts())
    assert set(mimo_nb.__all__) - {"__version__"} <= linked, sorted(
        set(mimo_nb.__all__) - linked - {"__version__"}
    )
    report.assert_clean()
    page.close()


def test_notebook_page_shows_outputs_and_the_explorer_snapshot(
    browser: Any, docs_site: str
) -> None:
    page, report = open_page(
        browser, f"{docs_site}/_generated/notebooks/01_quickstart.html", wait_for=".mimo-snapshot"
    )
    snapshot = page.locator(".mimo-snapshot")
    assert snapshot.count() == 1 and snapshot.is_visible()
    assert "8 frames sampled" in snapshot.inner_text()
    assert_shown(images(page, ".mimo-snapshot .mimo-frames img"), 8, "snapshot frame")
    assert_shown(
        images(page, ".mimo-frames img"), 2 + 4 + 8 + 8, "frame"
    )  # fps 0.5, 1, 2, explorer
    assert_shown(images(page, ".cell_output img"), 1, "plot")
    assert "Dry run: nothing was sent" in page.inner_text("body")
    screenshot(page, "docs-quickstart-snapshot.png", snapshot)
    report.assert_clean()
    page.close()
