"""System requirements that skip a test locally and fail it in CI.

Tests import these from here, not from ``conftest``: the repository root has a conftest.py too
(the doctest set-up), and in a worker process started by ``spawn`` ``import conftest`` may find
that one first.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str, why: str) -> str:
    """Return the path of system program ``name``; skip without it, except in CI where it fails."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed ({why}); .ci/run installs it with apt-get"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
