"""The local MiMo stand-in shared by the client tests: one server per module, reset per test.

Import the fixtures into a test module with ``from server_fixtures import KEY, URL, server, srv``;
``kill_after_answers`` SIGKILLs a child process that asks through the server at a known point
(the kill-and-resume tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mimo_nb.api.cache import ResponseCache
from mimo_nb.testing import MockMimoServer

KEY = "sk-test-0123456789abcdef"  # a fake key: tests check it never leaks
URL = "https://example.com/clip.mp4"


@pytest.fixture(scope="module")
def server():
    with MockMimoServer(api_key=KEY) as srv:
        yield srv


@pytest.fixture()
def srv(server: MockMimoServer) -> MockMimoServer:
    server.reset()
    server.head_sizes.clear()
    server.files.clear()
    server.file_faults.clear()
    return server


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def kill_after_answers(
    args: list[str], server: MockMimoServer, cache: Path, answers: int, seconds: float = 60.0
) -> None:
    """Start ``args`` (a child process asking ``server`` with its answers cached in ``cache``),
    let ``answers`` requests through, hold the next ones at the door, and SIGKILL the child
    while they wait: the server then has answered exactly ``answers`` requests."""
    server.hold_after(answers)
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(ResponseCache(cache)) == answers and server.held > 0, seconds)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    server.release()
    wait_for(lambda: server.held == 0, seconds)
    assert len(server.requests) == answers and child.returncode == -signal.SIGKILL
