"""A stand-in for a person at a browser, for tests: ``$BROWSER`` runs it with the ``/authorize`` URL.

It logs in the test user (``LAB_USER_*`` of the settings file named by ``$AUTH_FLOWS_ENV_FILE``) on a
sandbox-style login page, then follows the redirect to the app's loopback callback, as a browser
would, so that :func:`helpers.flows.browser_login` can be tested without a person. On failure it
still calls the callback, with an error, so the login never waits for its timeout.
"""
from __future__ import annotations

import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from dotenv import dotenv_values

from helpers.flows import AuthorizationRequest, FlowError, sandbox_login


def main(url: str) -> int:
    query = dict(parse_qsl(urlsplit(url).query))
    settings = dotenv_values(os.environ["AUTH_FLOWS_ENV_FILE"])
    request = AuthorizationRequest(url=url, client_id=query["client_id"], redirect_uri=query["redirect_uri"],
                                   response_type=query["response_type"], response_mode=None,
                                   scope=query.get("scope", ""), state=query["state"], nonce=query.get("nonce", ""),
                                   code_verifier=None, code_challenge=None, audience=query.get("audience"))
    try:
        callback = sandbox_login(request, settings["LAB_USER_EMAIL"], settings["LAB_USER_PASSWORD"])
        landing = callback.url
    except FlowError as error:
        landing = request.redirect_uri + "?" + urlencode({"error": error.error, "error_description": error.description,
                                                          "state": request.state})
    requests.get(landing, timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
