#!/usr/bin/env bash
# The wheel as a user meets it (`make test-dist`): a fresh venv, `pip install` of the built wheel
# with its extras (not the checkout, not editable), run from a folder with no checkout on the path.
# Then: the metadata and the package agree on one version; every module imports and the data
# files are there; `mimo-nb estimate` and `mimo-nb demo` work; the installed package's doctests
# and the quickstart notebook (under nbval) pass.
#
#   scripts/check_dist.sh PYTHON DIST_DIR
set -euo pipefail
python=${1:?usage: scripts/check_dist.sh PYTHON DIST_DIR}
dist=$(cd "${2:?usage: scripts/check_dist.sh PYTHON DIST_DIR}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

wheels=("$dist"/*.whl)
((${#wheels[@]} == 1)) || { echo "expected one wheel in $dist, found ${#wheels[@]}" >&2; exit 1; }
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "${wheels[0]}[notebook,dask]" pytest nbval ipykernel
cp "$here/conftest.py" "$here/notebooks/01_quickstart.ipynb" "$here/notebooks/sanitize.cfg" "$work/"
cd "$work"
export PYTHONPATH= MIMO_API_KEY= MIMO_NB_OFFLINE=
unset MIMO_API_KEY MIMO_NB_OFFLINE

venv/bin/python - <<'PY'
import importlib, importlib.metadata, pkgutil, sys
import mimo_nb
assert "site-packages" in mimo_nb.__file__, mimo_nb.__file__
assert mimo_nb.__version__ == importlib.metadata.version("mimo_nb"), "two versions"
modules = [m.name for m in pkgutil.walk_packages(mimo_nb.__path__, "mimo_nb.")]
for name in modules:
    importlib.import_module(name)
from importlib import resources
for data in ("py.typed", "data/prices.json", "data/spec_example_response.json"):
    assert resources.files("mimo_nb").joinpath(data).is_file(), data
print(f"mimo_nb {mimo_nb.__version__} from the wheel: {len(modules)} modules import, data present")
PY
venv/bin/mimo-nb estimate --duration 60 --width 1920 --height 1080 --fps 2 | tail -1
venv/bin/mimo-nb demo -o demo > /dev/null
test -s demo/report.html
echo "mimo-nb demo wrote demo/report.html"
venv/bin/python -m pytest -q -p no:cacheprovider --doctest-modules --pyargs mimo_nb
venv/bin/python -m pytest -q -p no:cacheprovider --nbval 01_quickstart.ipynb \
    --nbval-sanitize-with sanitize.cfg
