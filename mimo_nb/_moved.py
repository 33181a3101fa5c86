"""The flat module paths of 0.1 keep importing: ``mimo_nb.tokens`` is ``mimo_nb.core.tokens``.

mimo_nb 0.2 grouped its modules into layers (``core``, ``media``, ``api``, ``display``,
``corpus``; see the README's Architecture section). Code written against the flat paths keeps
working through one finder on :data:`sys.meta_path` that answers for the old names below and hands
back the module itself, so ``mimo_nb.tokens is mimo_nb.core.tokens`` (patching one patches both).
New code imports the new paths; nothing inside mimo_nb uses these.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

#: old module name (under ``mimo_nb.``) -> where it lives now
MOVED: dict[str, str] = {
    "limits": "core.limits",
    "tokens": "core.tokens",
    "profiles": "core.profiles",
    "budget": "core.budget",
    "pricing": "core.pricing",
    "decode": "media.decode",
    "video": "media.video",
    "samples": "media.samples",
    "_encode": "media.encode",
    "_imaging": "media.imaging",
    "client": "api.client",
    "streaming": "api.streaming",
    "cache": "api.cache",
    "response": "api.response",
    "request": "api.request",
    "_http": "net.http",
    "_pacing": "api.pacing",
    "render": "display.render",
    "plots": "display.plots",
    "widgets": "display.widgets",
    "report": "display.report",
    "compare": "display.compare",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``mimo_nb.<old name>`` and loads it as the module at its new path."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != __package__ or name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(f"{__package__}.{MOVED[spec.name.partition('.')[2]]}")
        spec.loader_state = module.__spec__  # importlib stamps the alias's spec on the module next
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None:
            module.__spec__ = alias.loader_state  # give the module its own spec back


def install() -> None:
    """Put the finder on :data:`sys.meta_path` (once)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
