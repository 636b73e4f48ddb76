"""A scripted browser for the sandbox's hosted pages, and small OAuth helpers for the tests."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as RFC 7636 §4.1-4.2 define them."""
    verifier = b64url(os.urandom(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


class _Forms(HTMLParser):
    """Collects the forms of a page: action, method and the inputs/buttons with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"), "fields": {},
                               "buttons": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if tag == "button":
                self.forms[-1]["buttons"].append((a["name"], a.get("value", ""), a.get("id")))
            else:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


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
    form = forms_of(page.text)[0]
    fields = dict(form["fields"], username=email, password=password)
    return http.post(urljoin(page.url, form["action"]), data=fields, allow_redirects=False)


def social_login(authorize_url: str, connection: str, account_index: int = 0,
                 session: requests.Session | None = None) -> requests.Response:
    """Click a social button on the login page, pick an account on the simulated provider page."""
    http = session or requests.Session()
    page = http.get(authorize_url, allow_redirects=True)
    if "/upstream/" not in page.url:
        link = f'id="social-{connection}" href="'
        start = page.text.index(link) + len(link)
        href = page.text[start:page.text.index('"', start)].replace("&amp;", "&")
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
