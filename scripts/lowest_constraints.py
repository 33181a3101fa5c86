"""Pin every direct dependency to its declared lower bound: a pip constraints file for `make
test-lowest`.

    python scripts/lowest_constraints.py > lowest.txt        # constraints for pip install -c
    python scripts/lowest_constraints.py --check              # are the installed versions those?

"Direct" means what pyproject.toml lists: ``[project] dependencies`` and the extras named with
``--extra`` (default: ``dev``, what the test suite installs). Each must carry a lower bound
(``>=`` or ``==``); the constraint pins it with ``==``, its environment marker kept, so pip
installs exactly the oldest release we claim to support while everything *transitive* resolves
to the newest release compatible with those pins (the "lowest-direct" strategy: what a user
with an old environment meets). ``--check`` then proves pip really installed the bound.

Standard library only, plus pip's own vendored ``tomli``/``packaging`` as a fallback: it runs in a
fresh venv on Python 3.10 (no ``tomllib``) before anything else is installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ModuleNotFoundError:  # a bare venv: pip carries packaging
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent


def direct_requirements(pyproject: Path, extras: list[str]) -> list[Requirement]:
    """The runtime dependencies plus those of ``extras``, as parsed requirements (first of each
    name)."""
    project: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = list(project.get("dependencies", []))
    for extra in extras:
        lines += project.get("optional-dependencies", {})[extra]
    seen: dict[str, Requirement] = {}
    for line in lines:
        req = Requirement(line)
        seen.setdefault(canonicalize_name(req.name), req)
    return list(seen.values())


def lower_bound(req: Requirement) -> str:
    """The version a requirement's ``>=`` (or ``==``/``~=``) names; an error when it has none."""
    bounds = [spec.version for spec in req.specifier if spec.operator in (">=", "==", "~=")]
    if len(bounds) != 1:
        raise SystemExit(
            f"{req}: a direct dependency needs exactly one lower bound (>=), found "
            f"{bounds or 'none'}"
        )
    return bounds[0]


def constraints(reqs: list[Requirement]) -> str:
    """One ``name==bound[; marker]`` line per requirement."""
    lines = []
    for req in reqs:
        marker = f"; {req.marker}" if req.marker else ""
        lines.append(f"{req.name}=={lower_bound(req)}{marker}")
    return "\n".join(lines) + "\n"


def check(reqs: list[Requirement]) -> list[str]:
    """Requirements (for this interpreter) not installed at exactly their lower bound."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        from packaging.version import Version
    except ModuleNotFoundError:
        from pip._vendor.packaging.version import Version  # type: ignore[no-redef]
    wrong = []
    for req in reqs:
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed == "not installed" or Version(installed) != Version(lower_bound(req)):
            wrong.append(f"{req.name}: declared >={lower_bound(req)}, installed {installed}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument(
        "--extra", action="append", help="extras whose dependencies count as direct (default: dev)"
    )
    parser.add_argument(
        "--check", action="store_true", help="verify the installed versions instead of printing"
    )
    args = parser.parse_args(argv)
    reqs = direct_requirements(args.pyproject, args.extra or ["dev"])
    if not args.check:
        sys.stdout.write(constraints(reqs))
        return 0
    wrong = check(reqs)
    for line in wrong:
        print(f"not at its lower bound: {line}", file=sys.stderr)
    if not wrong:
        print(f"all {len(reqs)} direct dependencies are installed at their declared lower bounds")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
