"""A real browser (Debian's headless Chromium) opens what users open: the exported quickstart and the demo report.

What is checked, and why this way:

* **Static export** (``test_quickstart_static_export``): the executed quickstart exported by
  nbconvert *without* widget state. That is what a reader gets when widgets are not live (no
  state saved, or the widget renderer cannot be fetched): every widget falls back to the static
  ``text/html`` snapshot it puts in its mimebundle. Nothing to download; it must show the frame
  grids and the plot as loaded images, with no JavaScript error.
* **Live widgets** (``test_quickstart_widgets_export``): the same notebook exported *with* its
  widget state, rendered by the real ``@jupyter-widgets/html-manager`` (and require.js). The
  network here holds only package registries, so instead of nbconvert's CDN URLs the page loads
  both from 127.0.0.1: ``npm pack`` fetches them once from the npm registry into a cache
  directory (pinned versions). The test asserts the widgets were really rendered (slider,
  toggle buttons, the FrameExplorer's frame grid) -- not the fallback.
* **Demo report** (``test_demo_report_in_browser``): ``mimo-nb demo`` output: frames, numbers
  and plots visible, nothing blocked by its Content-Security-Policy.

Every page is served from 127.0.0.1 and any request elsewhere is blocked and fails the test.
Screenshots go to ``tests/artefacts/`` (look at them: they must show frames and plots).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import IN_CI, require_binary

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "notebooks" / "01_quickstart.ipynb"
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
NPM_CACHE = Path(os.environ.get("MIMO_NB_TEST_CACHE", Path.home() / ".cache" / "mimo_nb-tests")) / "npm"
HTML_MANAGER = "@jupyter-widgets/html-manager@1.0.15"  # the renderer matching ipywidgets 8
REQUIREJS = "requirejs@2.3.8"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# ---- A local web server and a browser that may talk to nothing else -------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output readable
        pass


def _serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
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
    executable = require_binary("chromium", "the real-browser check of the notebooks and the report")
    try:
        from playwright import sync_api
    except ImportError:  # a dev dependency: missing only in a partial install
        (pytest.fail if IN_CI else pytest.skip)("the playwright package is not installed: pip install -e '.[dev]'")
    profile = tempfile.mkdtemp(prefix="mimo-nb-chromium-")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _open(context: Any, url: str, *, wait_for: str | None = None) -> tuple[Any, PageReport]:
    report = PageReport()
    page = context.new_page()
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on("console", lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None)

    def guard(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            report.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="load", timeout=60_000)
    if wait_for:
        page.wait_for_selector(wait_for, state="visible", timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    return page, report


def _images(page: Any, selector: str) -> list[dict[str, float]]:
    """Each matching image's natural size and box on the page (after scrolling it into view)."""
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        e.scrollIntoView(); const r = e.getBoundingClientRect();
        return {natural: e.naturalWidth, complete: e.complete, width: r.width, height: r.height};
    })""")


def _assert_shown(images: list[dict[str, float]], at_least: int, what: str) -> None:
    assert len(images) >= at_least, f"expected at least {at_least} {what}, found {len(images)}"
    for img in images:
        assert img["complete"] and img["natural"] > 0, f"a {what} image did not load: {img}"
        assert img["width"] > 0 and img["height"] > 0, f"a {what} image has no size on the page: {img}"


def _screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / name
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


# ---- The quickstart, executed and exported --------------------------------------------------


@pytest.fixture(scope="module")
def executed_quickstart(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The quickstart run afresh in a temp dir (its clip lands there), widget state stored."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    workdir = tmp_path_factory.mktemp("quickstart")
    nb = nbformat.read(QUICKSTART, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False, store_widget_state=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    assert "widgets" in nb.metadata, "executing the quickstart stored no widget state"
    return nb


def _export(nb: Any, site: Path, base: str, *, with_widget_state: bool) -> Path:
    """Export to HTML in ``site``; every script URL nbconvert would take from a CDN points at ``base``."""
    import copy

    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    if not with_widget_state:
        nb.metadata.pop("widgets", None)
    (site / "mathjax-stub.js").write_text("/* no maths in these notebooks */\n")
    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            require_js_url=f"{base}/require.js",
                            widget_renderer_url=f"{base}/html-manager/dist/embed-amd.js",
                            mathjax_url=f"{base}/mathjax-stub.js")
    body, _ = exporter.from_notebook_node(nb)
    name = "quickstart-widgets.html" if with_widget_state else "quickstart-static.html"
    (site / name).write_text(body, encoding="utf-8")
    return site / name


def _npm_assets() -> Path:
    """require.js and the widgets' HTML manager, fetched once with `npm pack` into a cache dir."""
    manager_dir = NPM_CACHE / "html-manager"
    require_js = NPM_CACHE / "require.js"
    if not (manager_dir / "dist" / "embed-amd.js").exists() or not require_js.exists():
        npm = require_binary("npm", "fetching @jupyter-widgets/html-manager and requirejs for the widget check")
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([npm, "pack", HTML_MANAGER, REQUIREJS, "--pack-destination", tmp],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"npm pack failed: {done.stderr[-2000:]}"
            tarballs = sorted(Path(tmp).glob("*.tgz"))
            assert len(tarballs) == 2, tarballs
            for tgz in tarballs:
                target = Path(tmp) / tgz.stem
                with tarfile.open(tgz) as archive:
                    archive.extractall(target, filter="data")
                if "html-manager" in tgz.name:
                    shutil.rmtree(manager_dir, ignore_errors=True)
                    shutil.copytree(target / "package", manager_dir)
                else:
                    shutil.copy(target / "package" / "require.js", require_js)
    return NPM_CACHE


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("site")
    (directory / "require.js").write_text("/* replaced by the real require.js for the widget check */\n")
    server, base = _serve(directory)
    try:
        yield directory, base
    finally:
        server.shutdown()


def test_quickstart_static_export(browser: Any, executed_quickstart: Any, site: tuple[Path, str]) -> None:
    directory, base = site
    page_file = _export(executed_quickstart, directory, base, with_widget_state=False)
    page, report = _open(browser, f"{base}/{page_file.name}")
    # The fallback snapshot is what shows, not an empty widget placeholder.
    assert page.locator(".mimo-snapshot").count() == 1
    _assert_shown(_images(page, ".mimo-frames img"), 2 + 4 + 8 + 8, "frame")  # fps 0.5, 1, 2 and the explorer
    _assert_shown(_images(page, ".jp-RenderedImage img"), 1, "plot")
    text = page.inner_text("body")
    assert "Dry run: nothing was sent" in text and "recorded response" in text
    assert "prices in CNY per 1M tokens" in text
    _screenshot(page, "quickstart-static.png")
    report.assert_clean()
    page.close()


def test_quickstart_widgets_export(browser: Any, executed_quickstart: Any, site: tuple[Path, str]) -> None:
    directory, base = site
    assets = _npm_assets()
    shutil.copy(assets / "require.js", directory / "require.js")
    if not (directory / "html-manager").exists():
        shutil.copytree(assets / "html-manager", directory / "html-manager")
    page_file = _export(executed_quickstart, directory, base, with_widget_state=True)
    page, report = _open(browser, f"{base}/{page_file.name}", wait_for=".widget-slider")
    # Rendered by the HTML manager from the saved state: real controls, and no fallback snapshot.
    assert page.locator(".mimo-snapshot").count() == 0
    assert page.locator(".widget-slider").count() >= 1
    assert page.locator(".widget-toggle-buttons").count() >= 2
    explorer_frames = _images(page, ".widget-html .mimo-frames img")
    _assert_shown(explorer_frames, 8, "explorer frame")
    _assert_shown(_images(page, ".jp-RenderedImage img"), 1, "plot")
    assert "8 frames sampled" in page.inner_text("body")
    _screenshot(page, "quickstart-widgets.png")
    report.assert_clean()
    page.close()


# ---- The demo report ------------------------------------------------------------------------


def test_demo_report_in_browser(browser: Any, tmp_path: Path, site: tuple[Path, str]) -> None:
    from mimo_nb.cli import main

    directory, base = site
    assert main(["demo", "--out", str(directory / "demo")]) == 0
    page, report = _open(browser, f"{base}/demo/report.html")
    _assert_shown(_images(page, "#frames .mimo-frames img"), 8, "frame")  # 4 s at fps 2
    _assert_shown(_images(page, "#curves img.plot"), 3, "plot")
    tokens = page.inner_text("#tokens")
    assert "Estimated for this video:" in tokens and "total" in tokens
    assert "CNY" in page.inner_text("#cost")
    assert "dry run: not sent" in page.inner_text("#answer")
    _screenshot(page, "demo-report.png")
    report.assert_clean()
    page.close()
