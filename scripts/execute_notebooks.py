"""Execute the notebooks in place, so their committed outputs are clean and the same on every run.

    .venv/bin/python scripts/execute_notebooks.py                  # every notebooks/*.ipynb
    .venv/bin/python scripts/execute_notebooks.py notebooks/01_quickstart.ipynb

What makes a run repeatable:

* the kernel starts in ``notebooks/`` (as nbval's does) without ``MIMO_API_KEY`` or
  ``MIMO_NB_OFFLINE``, so the committed outputs are always the dry run (``--keep-key`` keeps them,
  for a live run you do not mean to commit);
* no timing metadata is recorded (nbclient's ``record_timing`` is off);
* consecutive pieces of one printed stream are joined (the kernel may flush a line in two);
* widget model ids, random UUIDs, are renamed in order of first appearance (``000...001``,
  ``000...002``, ...), in outputs and in the saved widget state alike, so re-running changes no
  bytes when nothing else changed.

The widget state is kept: JupyterLab and nbconvert (online) show the explorers from it. Where the
widget JavaScript cannot load (an nbconvert export opened offline), each explorer's static
snapshot, an output of its own just before the widget, shows instead; the live widget hides it.

Outputs still worth a reviewer's look (images) are checked by nbval through sanitisers
(``notebooks/sanitize.cfg``) and by the browser test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
_UUID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")  # also inside "IPY_MODEL_<id>"
_SECRET_VARS = ("MIMO_API_KEY", "MIMO_NB_OFFLINE")


def _widget_ids(nb: nbformat.NotebookNode) -> list[str]:
    """Model ids of the widgets in the notebook, in order of first appearance in the outputs."""
    seen: dict[str, None] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                seen.setdefault(view["model_id"], None)
    state = (
        nb.metadata.get("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {})
        .get("state", {})
    )
    for model_id in state:
        seen.setdefault(model_id, None)
    return list(seen)


def stable_widget_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every widget model id replaced by a counter, consistently everywhere."""
    ids = _widget_ids(nb)
    if not ids:
        return nb
    mapping = {old: f"{n:032x}" for n, old in enumerate(ids, start=1)}
    text = _UUID.sub(lambda m: mapping.get(m.group(0), m.group(0)), json.dumps(nb))
    return nbformat.from_dict(json.loads(text))


def coalesce_streams(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Join consecutive stdout (or stderr) outputs of a cell: the kernel may flush a print in
    pieces."""
    for cell in nb.cells:
        merged: list[nbformat.NotebookNode] = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == output.name
            ):
                last.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


def execute(path: Path, *, timeout: int = 600, keep_key: bool = False) -> float:
    """Execute one notebook in place; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.pop(k) for k in _SECRET_VARS if k in os.environ and not keep_key}
    started = time.monotonic()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            store_widget_state=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        os.environ.update(saved)
    nb = stable_widget_ids(coalesce_streams(nb))
    nbformat.write(nb, path)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument(
        "--keep-key", action="store_true", help="run with MIMO_API_KEY (outputs not for committing)"
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        seconds = execute(path.resolve(), timeout=args.timeout, keep_key=args.keep_key)
        print(f"{path}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
