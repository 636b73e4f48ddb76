"""Shared fixtures: one running sandbox per test session, and a scripted browser for the login form."""
from __future__ import annotations

import pytest

from helpers.sandbox import Sandbox, launch_sandbox, start_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    box = start_sandbox(fresh=True)
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def _real_time_after_each_test(request):
    """Tests may freeze or advance the shared clock; put it back afterwards."""
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").clock.reset()


@pytest.fixture
def idp(sandbox: Sandbox) -> str:
    """The issuer URL, ``http://localhost:PORT/``."""
    return sandbox.idp_url


@pytest.fixture
def own_sandbox() -> Sandbox:
    """A sandbox of this test alone, for changes others must not see (key rotation, ...)."""
    box = launch_sandbox()
    yield box
    box.stop()


from tests.browser_support import browser_page, chromium  # noqa: E402,F401  (fixtures for the browser tests)
