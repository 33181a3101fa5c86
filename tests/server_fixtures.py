"""The local MiMo stand-in shared by the client tests: one server per module, reset per test.

Import the fixtures into a test module with ``from server_fixtures import KEY, URL, server, srv``.
"""

from __future__ import annotations

import pytest

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
