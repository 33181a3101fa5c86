"""The layers the README draws, true in the code: import-linter's contracts, checked to bite.

`make test` runs `lint-imports` over the package (pyproject.toml holds the contracts). Here each
contract is shown to fail on a planted violation (a copy of the package with one bad import
added inside a function, where Python runs it late), and the promises that matter to a user are
checked as a user meets them: a core value's text and `mimo-nb estimate` load no display, media
or HTTP library.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mimo_nb

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
HEAVY = ("matplotlib", "PIL", "nh3", "markdown_it", "ipywidgets", "IPython", "httpx", "av")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "NO_COLOR": "1", "TERM": "dumb"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(
        ROOT / "mimo_nb", tree / "mimo_nb", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contracts_hold_on_the_package(clean_tree: Path) -> None:
    done = _lint(clean_tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


PLANTED = [
    # (file, import added inside a function, the contract that must break)
    ("core/tokens.py", "import matplotlib.pyplot", "The core imports no display"),
    ("core/pricing.py", "from mimo_nb.display import render", "Layers"),
    ("core/budget.py", "from mimo_nb.media import video", "Layers"),
    ("media/video.py", "from mimo_nb.api import client", "Layers"),
    ("api/client/_base.py", "import httpx", "httpx is met only in the http seam"),
    ("display/plots.py", "import av", "PyAV is met only in probe, decode and encode"),
    ("core/pricing.py", "from mimo_nb.core import budget", "No import cycles"),
]


@pytest.mark.parametrize(("module", "statement", "contract"), PLANTED)
def test_a_planted_violation_breaks_its_contract(
    clean_tree: Path, tmp_path: Path, module: str, statement: str, contract: str
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(clean_tree, tree)
    target = tree / "mimo_nb" / module
    target.write_text(
        target.read_text() + f"\n\ndef _planted() -> None:\n    {statement}  # noqa\n"
    )
    done = _lint(tree)
    assert done.returncode != 0
    report = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)  # older import-linters colour anyway
    broken = re.findall(r"^(.+?) BROKEN\s*$", report, re.M)
    assert any(name.strip().startswith(contract) for name in broken), report


def _fresh(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return eval(out.strip().splitlines()[-1])  # a list of module names we printed


def test_the_text_of_core_values_loads_no_display_media_or_http_library() -> None:
    code = (
        "import mimo_nb as mn\n"
        "print(mn.explain_video_tokens(60, 1920, 1080))\n"
        "print(mn.explain_profile_tokens(60, 1920, 1080, profile='qwen3-vl', native_fps=30))\n"
        "print(repr(mn.plan_budget(duration=60, width=1920, height=1080, max_tokens=20000)))\n"
        "print(mn.estimate_cost(17240, mn.load_prices('mimo-v2.5', 'CNY')))\n"
    )
    assert _fresh(code) == []


def test_mimo_nb_estimate_loads_no_display_media_or_http_library() -> None:
    code = (
        "from mimo_nb.cli import main\n"
        "main(['estimate', '--duration', '60', '--width', '1920', '--height', '1080'])\n"
    )
    assert _fresh(code) == []


def test_a_core_value_still_renders_through_the_display_hook() -> None:
    b = mimo_nb.explain_video_tokens(60, 1920, 1080)
    html = b._repr_html_()
    assert "<table" in html and "17,240" in html


# ---- The public surface ----------------------------------------------------------------------

SURFACE = [
    "__version__",
    "MimoError",
    "LimitError",
    "ContextLengthError",
    "ConfigurationError",
    "VideoError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "CacheError",
    "CacheMissError",
    "explain_video_tokens",
    "estimate_video_tokens",
    "estimate_video_tokens_array",
    "plan_sampling",
    "explain_profile_tokens",
    "plan_budget",
    "Prices",
    "load_prices",
    "estimate_cost",
    "find_times",
    "Video",
    "Frames",
    "generate_clip",
    "MimoClient",
    "AsyncMimoClient",
    "Completion",
    "ResponseCache",
    "compare_profiles",
    "FrameExplorer",
    "TokenCostExplorer",
    "BudgetExplorer",
    "write_report",
    "Corpus",
    "sweep",
]


def test_the_top_level_is_the_pinned_everyday_surface() -> None:
    assert mimo_nb.__all__ == SURFACE
    assert len(SURFACE) <= 45
    assert [name for name in SURFACE if not hasattr(mimo_nb, name)] == []


def test_former_top_level_names_resolve_with_a_warning_naming_their_module() -> None:
    with pytest.warns(DeprecationWarning, match=r"from mimo_nb\.display\.plots import plot_cost"):
        plot_cost = mimo_nb.plot_cost
    from mimo_nb.display.plots import plot_cost as moved

    assert plot_cost is moved


def test_the_readme_uses_only_the_surface_and_imports_that_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    used = set(re.findall(r"\bmn\.([A-Za-z_]\w*)\b", readme))
    assert used <= set(SURFACE), sorted(used - set(SURFACE))
    for module, names in re.findall(r"^\s*from (mimo_nb[\w.]*) import ([\w, ]+)", readme, re.M):
        imported = __import__(module, fromlist=["_"])
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(imported, name), f"README: from {module} import {name}"
