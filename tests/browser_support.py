"""A real headless Chromium (Debian's, driven by Playwright) for the browser tests.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``CHROMIUM`` overrides it),
which ``make browser`` installs. Without it a browser test skips on a developer's machine and fails in CI
(``CI=true``): the browser tests are never skipped there.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
"""Screenshots and other files a browser test leaves for people to look at (ignored by git)."""

# Flags a closed network needs: no background connections to Google's services, no QUIC, no first-run UI.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Where Chromium is, or None."""
    wanted = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return wanted if os.access(wanted, os.X_OK) else shutil.which("chromium")


def require_chromium() -> str:
    """Chromium's path; skip the test without it, unless in CI where a missing browser is a failure."""
    path = chromium_path()
    if path:
        return path
    message = "Debian's chromium is not installed: run `make browser`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: browser tests are never skipped in CI)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium browser for the whole session."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, request):
    """A page in a fresh browser context (its own cookies); ``browser_page.shot(name)`` saves a screenshot
    to ``tests/artifacts/<test name>/<name>.png`` and returns its path."""
    context = chromium.new_context(viewport={"width": 1000, "height": 720})
    page = context.new_page()
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def shot(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    page.shot = shot
    yield page
    context.close()
