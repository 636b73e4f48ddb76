"""Refresh the committed screenshots (notebooks/images/) in a real browser: the sample single-page app, and
8base's login library (auth0.js v9, from node_modules: ``npm ci``) on its test page.

Usage: .venv/bin/python tools/refresh_screenshots.py   (needs Debian's chromium: ``make browser``)

A sandbox of its own is started with its clock frozen at the lessons' instant (2026-03-02T09:00:00Z), and the
page's clock is frozen at the same instant, so the picture shows the same token times on every run.
"""
from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.sandbox import launch_sandbox  # noqa: E402
from tests.browser_support import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.sample_app_driver import log_in_with_code  # noqa: E402
from tests.sdk_pages import auth0js_login, call, sdk_sandbox  # noqa: E402

LESSON_INSTANT = datetime.fromisoformat("2026-03-02T09:00:00Z")
IMAGES = ROOT / "notebooks" / "images"
LOGGED_IN = IMAGES / "sample-app-logged-in.png"
SDK_PARSE_HASH = IMAGES / "8base-sdk-auth0js-parse-hash.png"
VIEWPORT = {"width": 1000, "height": 720}


def capture_logged_in(browser, path: Path) -> str:
    """Log Ada in through the sample app (code + PKCE) and save the page; returns the page's text."""
    box = launch_sandbox()
    try:
        box.clock.freeze(LESSON_INSTANT.timestamp())
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        try:
            page = context.new_page()
            page.clock.set_fixed_time(LESSON_INSTANT)  # the app compares exp with the page's own clock
            ada = next(u for u in box.users if u["email"] == "ada@example.com")
            log_in_with_code(page, box.sample_app_url, box.idp_url, ada["email"], ada["password"])
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
            return page.inner_text("body")
        finally:
            context.close()
    finally:
        box.stop()


def capture_8base_sdk(browser, path: Path) -> str:
    """Log Ada in with auth0.js as 8base's SDK does (authorize, hosted login, parseHash), call the API with the ID
    token and with the access token, and save the page; returns the page's text."""
    with tempfile.TemporaryDirectory(prefix="sdk-screenshot-") as folder, sdk_sandbox(Path(folder)) as (box, origin):
        box.clock.freeze(LESSON_INSTANT.timestamp())
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        try:
            page = context.new_page()
            ada = next(u for u in box.users if u["email"] == "ada@example.com")
            parsed = auth0js_login(page, box, origin, ada["email"], ada["password"], page_time=LESSON_INSTANT)
            if not parsed["ok"]:
                raise RuntimeError(f"auth0.js parseHash failed: {parsed['error']}")
            tokens = parsed["result"]
            call(page, "graphql", tokens["idToken"], "ID token")
            call(page, "graphql", tokens["accessToken"], "access token")
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
            return page.inner_text("body")
        finally:
            context.close()


def main() -> int:
    executable = chromium_path()
    if executable is None:
        print("Debian's chromium is not installed: run `make browser`", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            capture_logged_in(browser, LOGGED_IN)
            capture_8base_sdk(browser, SDK_PARSE_HASH)
        finally:
            browser.close()
    for path in (LOGGED_IN, SDK_PARSE_HASH):
        print("saved", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
