"""Sphinx configuration of mimo_nb's documentation site (``make docs``; see docs/index.md).

The site is built offline with warnings as errors: no intersphinx, no notebook executed, nothing
loaded from a CDN. Three sources feed it, none copied by hand:

* the README, split at its ``## `` headings into one guide page each (``_generated/readme/``);
* the committed notebooks with their outputs (``_generated/notebooks/``), never executed;
* the docstrings, through autodoc and autosummary (``_generated/api/``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import sys
from pathlib import Path

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
sys.path.insert(0, str(ROOT))  # the checkout, whether or not it is installed

import mimo_nb  # noqa: E402  (after the path is set)

project = "mimo_nb"
author = "mimo_nb contributors"
copyright = "mimo_nb contributors"
release = version = mimo_nb.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",  # the Google-style "Args:" sections of our docstrings
    "myst_nb",  # Markdown pages and the notebooks (it brings myst_parser)
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings: list[str] = []

# ---- The API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # a package's __all__ says what it offers (api.client)
autosummary_imported_members = False
# Each module's page documents what it owns; a name it re-exports from another public module is
# documented there (and linked), not twice.
# Filled below: "module.name" of each re-export; each package's public modules.
autosummary_context: dict[str, object] = {}
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"  # types in the signature, as the code reads
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True  # `fps=FPS_DEFAULT`, not its value
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
add_module_names = False

# ---- Markdown and the notebooks -------------------------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 2
nb_execution_mode = "off"  # the committed outputs are the pages: nothing runs at build time
# No widget manager from a CDN: each explorer's text/html static snapshot stands in for it.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

# ---- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mimo_nb {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_context = {"default_mode": "auto"}  # light or dark as the reader's system says


# ---- The generated sources ------------------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~)")
_IMAGE_LINK = re.compile(r"\[!\[([^\]]*)\]\([^)]*\)\]\(([^)]*)\)")  # [![alt](img)](target)


def _slug(title: str) -> str:
    """GitHub's anchor for a heading (the links inside the README use these)."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def _readme_sections(text: str) -> list[tuple[str, str]]:
    """The README cut at its ``## `` headings (not inside code fences): (title, body) pairs; the
    first is the introduction, titled ``""``."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(body).strip() + "\n") for title, body in sections]


def _write_readme_pages() -> None:
    """One page per README section in ``_generated/readme``; ``(#anchor)`` links across sections
    become links to the page; a badge image (fetched from the web) becomes its link text."""
    out = GENERATED / "readme"
    sections = _readme_sections((ROOT / "README.md").read_text(encoding="utf-8"))
    pages = {_slug(title): title for title, _ in sections[1:]}

    def link(match: re.Match[str]) -> str:
        text, slug = match.group(1), match.group(2)
        if slug in pages:
            return f"{{doc}}`{text} </_generated/readme/{slug}>`"
        return match.group(0)

    for title, body in sections:
        body = _IMAGE_LINK.sub(r"[\1](\2)", body)
        body = re.sub(r"\[([^\]`]+)\]\(#([\w\-]+)\)", link, body)
        if title:
            (out / f"{_slug(title)}.md").write_text(f"# {title}\n\n{body}", encoding="utf-8")
        else:  # the introduction: the title is the README's own "# mimo_nb" line
            (out / "intro.md").write_text(body.split("\n", 1)[1].lstrip(), encoding="utf-8")


def _copy_notebooks() -> None:
    """The committed notebooks, outputs and all, into ``_generated/notebooks``."""
    out = GENERATED / "notebooks"
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(notebook, out / notebook.name)


def _documented_module(module: str) -> str:
    """Where a name is documented: its module, or the nearest public package above a private one
    (``mimo_nb.api.client._sync`` -> ``mimo_nb.api.client``, whose ``__all__`` offers it)."""
    parts = module.split(".")
    while any(part.startswith("_") for part in parts):
        parts.pop()
    return ".".join(parts)


def _public_modules() -> list[str]:
    """Every public module of mimo_nb (no ``_`` in its path), packages first."""
    found = ["mimo_nb"]
    for info in pkgutil.walk_packages(mimo_nb.__path__, "mimo_nb."):
        if "._" not in info.name:
            found.append(info.name)
    return found


def _reexports(modules: list[str]) -> list[str]:
    """``module.name`` for each name a public module's ``__all__`` takes from another public
    module (``mimo_nb.api.client.PreparedRequest`` is ``mimo_nb.api.request``'s)."""
    found = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            home = getattr(getattr(module, name, None), "__module__", None)
            if isinstance(home, str) and _documented_module(home) != module_name:
                found.append(f"{module_name}.{name}")
    return found


def _submodules(modules: list[str]) -> dict[str, list[str]]:
    """Each package's public modules (autosummary lists only those its ``__all__`` names)."""
    return {package: [m for m in modules if m.rpartition(".")[0] == package] for package in modules}


def _write_surface() -> None:
    """The top level's ``__all__`` as a table: each name, its one-line summary, a link to where
    it is documented (in its layer's module)."""
    rows = ["| name | what it is | documented in |", "|---|---|---|"]
    for name in mimo_nb.__all__:
        if name == "__version__":
            continue
        obj = getattr(mimo_nb, name)
        module = _documented_module(obj.__module__)
        doc = (obj.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
        target = f"{module}.{obj.__qualname__}"
        rows.append(f"| {{py:obj}}`{name} <{target}>` | {doc} | {{py:mod}}`{module}` |")
    (GENERATED / "surface.md").write_text("\n".join(rows) + "\n", encoding="utf-8")


shutil.rmtree(GENERATED, ignore_errors=True)
for sub in ("readme", "notebooks"):
    (GENERATED / sub).mkdir(parents=True)
_write_readme_pages()
_copy_notebooks()
_write_surface()
_modules = _public_modules()
autosummary_context["reexported"] = _reexports(_modules)
autosummary_context["submodules"] = _submodules(_modules)


# ---- Docstring markup that Sphinx reads differently from help() ----------------------------

_STARRED_IN_LIST = re.compile(r"(?<=, )\*\*?(?=\w)")  # "a, b, **extra:" in an Args: entry
# Docstrings of modules other changes are rewriting, shown as plain text until they are fixed in
# place (see docs/about.md, "Docstrings to fix"): name -> why.
LITERAL_TABLES = {
    "mimo_nb.testing": "the faults table's first column is narrower than its longest name",
}


def _literal_table(lines: list[str]) -> None:
    """Show a simple table (``====`` borders) as a literal block, in place."""
    borders = [i for i, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line.strip())]
    if len(borders) < 2:
        return
    first, last = borders[0], borders[-1]
    lines[first : last + 1] = ["::", ""] + ["    " + line for line in lines[first : last + 1]]


def _docstring_markup(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Escape a starred name in a napoleon ``Args:`` list of several names (napoleon escapes it
    only when it stands alone) and show the listed tables as literal blocks."""
    for i, line in enumerate(lines):
        lines[i] = _STARRED_IN_LIST.sub(lambda m: "\\" + "\\".join(m.group(0)), line)
    if name in LITERAL_TABLES:
        _literal_table(lines)


def setup(app: Sphinx) -> None:
    # Before napoleon (priority 500) turns the Args: sections into fields.
    app.connect("autodoc-process-docstring", _docstring_markup, priority=400)
