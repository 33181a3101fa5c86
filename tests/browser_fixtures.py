"""What every browser test shares: a 127.0.0.1 web server, headless Chromium that may talk to
nothing else, and helpers to open a page, check its pictures and keep a screenshot.

Used by ``tests/test_browser.py`` (notebooks and the report, in JupyterLab, Notebook 7 and
Voila) and ``tests/test_docs.py`` (the documentation site). Chromium is Debian's package, driven
by Playwright (never ``playwright install``); without it a test is skipped, and fails in CI.
"""

from __future__ import annotations

import functools
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from system_requirements import IN_CI, require_binary

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ---- A local web server and a browser that may talk to nothing else -------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output readable
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    """``directory`` served on 127.0.0.1 (a free port) in a thread: the server and its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@dataclass
class PageReport:
    """What happened while a page loaded: errors, console errors, requests that were blocked."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.blocked == [], f"the page tried to load from outside 127.0.0.1: {self.blocked}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium with a fresh profile, driven by Playwright (never `playwright install`)."""
    executable = require_binary(
        "chromium", "the real-browser check of the notebooks and the report"
    )
    try:
        from playwright import sync_api
    except ImportError:  # a dev dependency: missing only in a partial install
        (pytest.fail if IN_CI else pytest.skip)(
            "the playwright package is not installed: pip install -e '.[dev]'"
        )
    profile = tempfile.mkdtemp(prefix="mimo-nb-chromium-")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def open_page(
    context: Any, url: str, *, wait_for: str | None = None, timeout: float = 120.0
) -> tuple[Any, PageReport]:
    """Open ``url`` in a new tab, recording errors and blocking any request not to 127.0.0.1;
    wait (at most ``timeout`` seconds) for it to load and ``wait_for`` (a selector) to be
    visible, then for the network to go quiet. On a timeout the tab is closed."""
    report = PageReport()
    page = context.new_page()
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None,
    )

    def guard(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            report.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    try:
        page.goto(url, wait_until="load", timeout=timeout * 1000)
        if wait_for:
            page.wait_for_selector(wait_for, state="visible", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
    except Exception:
        page.close()
        raise
    return page, report


def images(page: Any, selector: str) -> list[dict[str, float]]:
    """Each matching image's natural size and box on the page (after scrolling it into view)."""
    return page.eval_on_selector_all(
        selector,
        """els => els.map(e => {
        e.scrollIntoView(); const r = e.getBoundingClientRect();
        return {natural: e.naturalWidth, complete: e.complete, width: r.width, height: r.height};
    })""",
    )


def assert_shown(found: list[dict[str, float]], at_least: int, what: str) -> None:
    """At least ``at_least`` images were found, each loaded and given a size on the page."""
    assert len(found) >= at_least, f"expected at least {at_least} {what}, found {len(found)}"
    for img in found:
        assert img["complete"] and img["natural"] > 0, f"a {what} image did not load: {img}"
        assert img["width"] > 0 and img["height"] > 0, (
            f"a {what} image has no size on the page: {img}"
        )


def screenshot(page: Any, name: str, element: Any = None) -> Path:
    """A picture for a reviewer: the whole page, or one element of it."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / name
    if element is not None:
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(path))
    else:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server started in another process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
