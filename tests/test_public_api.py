"""The one public surface: every name in mimo_nb.__all__ resolves, and the core imports light."""

from __future__ import annotations

import subprocess
import sys

import mimo_nb


def test_every_public_name_resolves():
    missing = [name for name in mimo_nb.__all__ if not hasattr(mimo_nb, name)]
    assert missing == []
    assert mimo_nb.Video.__module__ == "mimo_nb.media.video"
    assert mimo_nb.FrameExplorer.__module__ == "mimo_nb.display.widgets"


def test_unknown_names_are_attribute_errors():
    try:
        mimo_nb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_core_loads_no_display_or_http_library():
    code = (
        "import sys, mimo_nb; mimo_nb.explain_video_tokens(60, 1920, 1080);print(sorted(m for m "
        "in ('matplotlib', 'ipywidgets', 'httpx', 'av', 'decord') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
