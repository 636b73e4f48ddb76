"""A person at a real browser, for tests: headless Chromium logs the test user in on a provider's login page.

:func:`log_in` drives a Playwright page: open the ``/authorize`` URL, fill the form's ``username`` and
``password``, submit, and wait until the browser reaches the app's ``redirect_uri`` (where
:func:`helpers.flows.browser_login` catches it). As ``$BROWSER`` (``python tests/scripted_chromium.py URL``)
it reads the user from the settings file named by ``$AUTH_FLOWS_ENV_FILE`` and starts its own Chromium.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from dotenv import dotenv_values

TIMEOUT_MS = 20_000


def log_in(page, url: str, email: str, password: str) -> str:
    """Log in on the page the URL leads to; return the URL the browser ends at (the app's callback)."""
    redirect_uri = dict(parse_qsl(urlsplit(url).query))["redirect_uri"]
    page.goto(url)
    if not page.url.startswith(redirect_uri):  # a live session skips the form
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile("^" + re.escape(redirect_uri)), timeout=TIMEOUT_MS)
    return page.url


def main(url: str) -> int:
    """``$BROWSER`` entry point: one login in a fresh headless Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM_ARGS, chromium_path

    settings = dotenv_values(os.environ["AUTH_FLOWS_ENV_FILE"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            log_in(browser.new_page(), url, settings["LAB_USER_EMAIL"], settings["LAB_USER_PASSWORD"])
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make `tests` importable
    sys.exit(main(sys.argv[1]))
