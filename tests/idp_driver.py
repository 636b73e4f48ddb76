"""A scripted browser for the sandbox's hosted pages, and small OAuth helpers for the tests."""
from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from helpers.flows import LoginPage, password_login, pkce_pair

__all__ = ["authorize_params", "browser_login", "callback_params", "forms_of", "pkce_pair", "request_url",
           "social_login"]


def forms_of(html: str) -> list[dict]:
    """The forms of a page as dicts (action, method, fields, buttons), read by the flows' login-page reader."""
    return [{"action": f.action, "method": f.method, "fields": dict(f.fields),
             "buttons": [(name, value, None) for name, value in f.buttons]} for f in LoginPage.read(html).forms]


def authorize_params(client_id: str, redirect_uri: str, **extra) -> dict:
    """A PKCE authorization-code request; returns the params plus ``_verifier``."""
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid profile email", "state": secrets.token_urlsafe(16),
              "nonce": secrets.token_urlsafe(16), "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(extra)
    params["_verifier"] = verifier
    return params


def browser_login(authorize_url: str, email: str, password: str, session: requests.Session | None = None,
                  ) -> requests.Response:
    """Follow ``/authorize`` to the hosted login page, submit the form, return the answer to the app.

    The returned response is the IdP's last one: a 302 whose ``Location`` goes to the app's
    ``redirect_uri`` (or a 200 page for ``form_post`` / ``web_message``, or a 400 page).
    """
    http = session or requests.Session()
    page = http.get(authorize_url, allow_redirects=True)
    assert page.status_code == 200, page.text[:500]
    url, fields = password_login(LoginPage.parse(page), page.url, email, password)
    return http.post(url, data=fields, allow_redirects=False)


def social_login(authorize_url: str, connection: str, account_index: int = 0,
                 session: requests.Session | None = None) -> requests.Response:
    """Click a social button on the login page, pick an account on the simulated provider page."""
    http = session or requests.Session()
    page = http.get(authorize_url, allow_redirects=True)
    if "/upstream/" not in page.url:
        href = LoginPage.parse(page).links[f"social-{connection}"]
        page = http.get(urljoin(page.url, href), allow_redirects=True)
    form = forms_of(page.text)[0]
    name, value, _ = [b for b in form["buttons"] if b[1]][account_index]
    back = http.post(urljoin(page.url, form["action"]), data=dict(form["fields"], **{name: value}),
                     allow_redirects=False)
    assert back.status_code == 302, back.text[:300]
    return http.get(urljoin(page.url, back.headers["location"]), allow_redirects=False)


def callback_params(response: requests.Response) -> dict[str, str]:
    """The parameters the IdP sent to the app: from the query or the fragment of ``Location``."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    parts = urlsplit(response.headers["location"])
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw).items()}


def request_url(base: str, params: dict) -> str:
    return base + "authorize?" + urlencode({k: v for k, v in params.items() if not k.startswith("_")})
