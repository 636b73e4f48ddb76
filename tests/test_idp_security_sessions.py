"""Security cases of the sandbox IdP: nonce, logout and sessions, pages' headers and HTML (IDP-23 .. IDP-28).

The cases of shared/reference/jwt-security-cases.md section 1.7 and the decisions they follow:
tests/idp_security_support.py.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.idp_driver import callback_params, forms_of, request_url
from tests.idp_security_support import (BAD_RETURN_TO, EVIL, LOGIN_REQUIRED, NONCE_MISSING, PKCE_METHOD, TIMEOUT,
                                        UNKNOWN_CLIENT, XSS, _assert_error_page, _assert_redirect_error, _authorize,
                                        _claims, _login, _login_code, _redeem, _spa_params, _user, _without_pkce)


def test_IDP_23_nonce_round_trip_in_the_code_flow(sandbox):
    nonce = secrets.token_urlsafe(16) + "-._~"
    code, params = _login_code(sandbox, _spa_params(sandbox, nonce=nonce))
    response = _redeem(sandbox, code, params)
    assert response.status_code == 200
    assert _claims(response.json()["id_token"])["nonce"] == nonce


@pytest.mark.parametrize("response_type", ["id_token", "token id_token"])
def test_IDP_23_nonce_round_trip_in_the_implicit_flow(sandbox, response_type):
    nonce = secrets.token_urlsafe(16)
    params = _without_pkce(_spa_params(sandbox, response_type=response_type, nonce=nonce))
    answer = _login(sandbox, params)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(sandbox.redirect_uri + "#") and urlsplit(location).query == ""
    back = callback_params(answer)
    assert back["state"] == params["state"]
    claims = _claims(back["id_token"])
    assert claims["nonce"] == nonce
    assert claims["aud"] == sandbox.spa_client_id
    if "token" in response_type.split():
        assert back["token_type"] == "Bearer"
        digest = hashlib.sha256(back["access_token"].encode()).digest()
        assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    else:
        assert "access_token" not in back


@pytest.mark.parametrize("response_type", ["id_token", "token id_token"])
@pytest.mark.parametrize("nonce", [None, ""], ids=["missing", "empty"])
def test_IDP_23_implicit_without_nonce_is_refused(sandbox, response_type, nonce):
    params = _without_pkce(_spa_params(sandbox, response_type=response_type))
    if nonce is None:
        del params["nonce"]
    else:
        params["nonce"] = nonce
    _assert_redirect_error(_authorize(sandbox, params), params, "invalid_request", NONCE_MISSING, "fragment")


def test_IDP_23_implicit_without_nonce_in_form_post_mode(sandbox):
    params = _without_pkce(_spa_params(sandbox, response_type="id_token", response_mode="form_post"))
    del params["nonce"]
    response = _authorize(sandbox, params)
    assert response.status_code == 200 and "location" not in response.headers
    form = forms_of(response.text)[0]
    assert form["action"] == sandbox.redirect_uri and form["method"] == "post"
    assert form["fields"] == {"error": "invalid_request", "error_description": NONCE_MISSING,
                              "state": params["state"]}


# ============================================================================ logout and sessions
@pytest.mark.parametrize("client_id, return_to", [
    (None, "https://evil.example"),
    (None, "http://localhost:3000"),
    (None, "http://localhost:3000/@evil.example"),
    (None, "//evil.example/"),
    ("spa", "https://evil.example/"),
    ("spa", "http://localhost:3000//evil.example"),
    ("spa", "http://localhost:3000/?next=https://evil.example"),
    ("spa", "http://localhost:3000@evil.example/"),
    ("spa", "http://localhost:3000/callback"),          # a callback URL, not a logout URL
    ("spa", "http://localhost:5000/"),                  # the web client's logout URL
    ("spa", "HTTP://LOCALHOST:3000/"),
    ("spa", XSS),
])
def test_IDP_24_logout_return_to_not_registered_is_refused(sandbox, client_id, return_to):
    query = {"returnTo": return_to}
    if client_id:
        query["client_id"] = sandbox.spa_client_id
    response = requests.get(sandbox.idp_url + "v2/logout", params=query, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(response, "invalid_request", BAD_RETURN_TO, return_to)


def test_IDP_24_logout_with_unknown_client_is_refused(sandbox):
    query = {"client_id": XSS, "returnTo": "http://localhost:3000/"}
    response = requests.get(sandbox.idp_url + "v2/logout", params=query, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(response, "invalid_request", UNKNOWN_CLIENT, XSS)


def test_IDP_24_logout_to_a_registered_url_ends_the_session(sandbox):
    http = requests.Session()
    _login_code(sandbox, session=http)
    cookie = http.cookies.get("auth0")
    assert cookie

    return_to = sandbox.idp.seed.clients[sandbox.spa_client_id].allowed_logout_urls[0]
    response = http.get(sandbox.idp_url + "v2/logout", params={"client_id": sandbox.spa_client_id,
                                                               "returnTo": return_to},
                        allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert response.headers["location"] == return_to
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("auth0=") and "Max-Age=0" in set_cookie
    assert http.cookies.get("auth0") is None

    params = _spa_params(sandbox, prompt="none")
    _assert_redirect_error(_authorize(sandbox, params, http), params, "login_required", LOGIN_REQUIRED, "query")
    # The session is closed on the server too: replaying the old cookie does not log in.
    params = _spa_params(sandbox, prompt="none")
    replay = _authorize(sandbox, params, cookies={"auth0": cookie})
    _assert_redirect_error(replay, params, "login_required", LOGIN_REQUIRED, "query")


def test_prompt_none_with_a_live_session_answers_a_code_without_the_login_page(sandbox):
    http = requests.Session()
    _login_code(sandbox, session=http)
    params = _spa_params(sandbox, prompt="none")
    response = _authorize(sandbox, params, http)
    assert response.status_code == 302
    assert response.headers["location"].startswith(sandbox.redirect_uri + "?")
    back = callback_params(response)
    assert back["state"] == params["state"] and "error" not in back
    tokens = _redeem(sandbox, back["code"], params)
    assert tokens.status_code == 200
    assert _claims(tokens.json()["id_token"])["nonce"] == params["nonce"]


def test_prompt_none_without_a_session_answers_login_required(sandbox):
    params = _spa_params(sandbox, prompt="none")
    _assert_redirect_error(_authorize(sandbox, params), params, "login_required", LOGIN_REQUIRED, "query")


# ============================================================================ pages: headers and HTML
def _login_page(sandbox) -> requests.Response:
    return requests.get(request_url(sandbox.idp_url, _spa_params(sandbox)), timeout=TIMEOUT)


def _failed_login(sandbox) -> requests.Response:
    page = _login_page(sandbox)
    form = forms_of(page.text)[0]
    return requests.post(urljoin(page.url, form["action"]), allow_redirects=False, timeout=TIMEOUT,
                         data=dict(form["fields"], username=XSS, password="wrong"))


def _upstream_page(sandbox) -> requests.Response:
    return requests.get(request_url(sandbox.idp_url, _spa_params(sandbox, connection="github")), timeout=TIMEOUT)


def _form_post_page(sandbox) -> requests.Response:
    return _authorize(sandbox, _spa_params(sandbox, prompt="none", response_mode="form_post"))


PAGES = {
    "login page": _login_page,
    "login page after a wrong password": _failed_login,
    "simulated social provider page": _upstream_page,
    "error page: unknown client": lambda s: _authorize(s, _spa_params(s, client_id="nope")),
    "error page: redirect_uri mismatch": lambda s: _authorize(s, _spa_params(s, redirect_uri=EVIL)),
    "error page: unknown login transaction": lambda s: requests.get(s.idp_url + "u/login?state=nope",
                                                                    timeout=TIMEOUT),
    "error page: logout returnTo": lambda s: requests.get(s.idp_url + "v2/logout?returnTo=https://evil.example",
                                                          allow_redirects=False, timeout=TIMEOUT),
    "logged-out page": lambda s: requests.get(s.idp_url + "v2/logout", allow_redirects=False, timeout=TIMEOUT),
    "form_post response": _form_post_page,
}


@pytest.mark.parametrize("page", list(PAGES))
def test_IDP_27_pages_cannot_be_framed(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers.get("content-security-policy") == "frame-ancestors 'none'"
    assert response.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize("page", list(PAGES))
def test_IDP_25_pages_send_no_referrer(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.text


@pytest.mark.parametrize("page", ["login page", "simulated social provider page", "error page: unknown client",
                                  "form_post response"])
def test_IDP_25_pages_load_no_third_party_resources(sandbox, page):
    response = PAGES[page](sandbox)
    assert response.status_code in (200, 400)
    for tag in re.findall(r"<(?:script|img|link|iframe|object|embed|source|video|audio)\b[^>]*>", response.text, re.I):
        assert not re.search(r"""(?:src|href|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", tag, re.I), tag
    assert "@import" not in response.text and "url(" not in response.text


def _redirect_to_login(sandbox) -> requests.Response:
    return _authorize(sandbox, _spa_params(sandbox))


def _login_post(sandbox) -> requests.Response:
    return _login(sandbox, _spa_params(sandbox))


REDIRECTS = {
    "/authorize to the login page": (_redirect_to_login, "/u/login?"),
    "login form POST to the app": (_login_post, "http://localhost:3000/callback?"),
    "/authorize error to the app": (lambda s: _authorize(s, _spa_params(s, prompt="none")),
                                    "http://localhost:3000/callback?"),
    "logout to the app": (lambda s: requests.get(s.idp_url + "v2/logout",
                                                 params={"client_id": s.spa_client_id,
                                                         "returnTo": "http://localhost:3000/"},
                                                 allow_redirects=False, timeout=TIMEOUT), "http://localhost:3000/"),
}


@pytest.mark.parametrize("redirect", list(REDIRECTS))
def test_IDP_25_redirects_send_no_referrer(sandbox, redirect):
    make, prefix = REDIRECTS[redirect]
    response = make(sandbox)
    assert response.status_code == 302
    assert response.headers["location"].startswith(prefix)
    assert response.headers.get("referrer-policy") == "no-referrer"


def test_IDP_26_login_form_post_answers_302_never_307(sandbox):
    params = _spa_params(sandbox)
    response = _login(sandbox, params)
    assert response.status_code == 302
    assert response.headers["location"].startswith(sandbox.redirect_uri + "?code=")


def test_IDP_26_social_provider_form_post_answers_302_never_307(sandbox):
    page = _upstream_page(sandbox)
    form = forms_of(page.text)[0]
    name, value, _ = [b for b in form["buttons"] if b[1]][0]
    response = requests.post(urljoin(page.url, form["action"]), data=dict(form["fields"], **{name: value}),
                             allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).path == "/login/callback"


def test_IDP_26_replayed_login_post_gets_no_second_code(sandbox):
    """The login transaction behind the form is single-use: resubmitting it answers an error page."""
    page = _login_page(sandbox)
    form = forms_of(page.text)[0]
    email, password = _user(sandbox)
    data = dict(form["fields"], username=email, password=password)
    first = requests.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, timeout=TIMEOUT)
    assert first.status_code == 302
    again = requests.post(urljoin(page.url, form["action"]), data=data, allow_redirects=False, timeout=TIMEOUT)
    _assert_error_page(again, "invalid_request", "This login session is unknown or has expired.")


def test_IDP_26_wrong_password_rerenders_the_form_without_a_redirect(sandbox):
    response = _failed_login(sandbox)
    assert response.status_code == 400 and "location" not in response.headers
    message = re.search(r'<div class="error" role="alert" id="error-message">(.*?)</div>', response.text, re.S)
    assert message and html.unescape(message.group(1)) == "Wrong email or password."


def test_IDP_28_state_is_escaped_in_a_form_post_response(sandbox):
    params = _spa_params(sandbox, prompt="none", response_mode="form_post", state=XSS)
    response = _authorize(sandbox, params)
    assert response.status_code == 200
    assert XSS not in response.text and "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    form = forms_of(response.text)[0]
    assert form["action"] == sandbox.redirect_uri
    assert form["fields"] == {"error": "login_required", "error_description": LOGIN_REQUIRED, "state": XSS}


def test_IDP_28_state_is_escaped_in_a_successful_form_post_response(sandbox):
    params = _spa_params(sandbox, response_mode="form_post", state=XSS)
    response = _login(sandbox, params)
    assert response.status_code == 200
    assert XSS not in response.text and "<script>" not in response.text
    fields = forms_of(response.text)[0]["fields"]
    assert fields["state"] == XSS and set(fields) == {"code", "state"}


def test_IDP_28_state_cannot_break_out_of_the_web_message_script(sandbox):
    state = "</script><script>alert(1)</script>'\"&"
    params = _spa_params(sandbox, prompt="none", response_mode="web_message", state=state)
    response = _authorize(sandbox, params)
    assert response.status_code == 200
    assert response.text.count("<script") == 1 and response.text.count("</script>") == 1
    assert "alert(1)" in response.text  # present, but only as escaped data inside the JSON literal
    assert response.headers.get("content-security-policy") == "frame-ancestors http://localhost:3000"


def test_IDP_28_username_is_escaped_on_the_login_page(sandbox):
    response = _failed_login(sandbox)
    assert XSS not in response.text and "<script>" not in response.text
    assert forms_of(response.text)[0]["fields"]["username"] == XSS


@pytest.mark.parametrize("name, value, error, description", [
    ("audience", XSS, "access_denied", "Service not found"),
    ("connection", XSS, "invalid_request", "the connection was not found"),
    ("prompt", XSS, "invalid_request", "prompt must be none, login or consent."),
    ("max_age", XSS, "invalid_request", "max_age must be a number of seconds."),
    ("code_challenge_method", XSS, "invalid_request", PKCE_METHOD),
])
def test_IDP_28_authorize_errors_never_echo_the_callers_text(sandbox, name, value, error, description):
    params = _spa_params(sandbox, **{name: value})
    response = _authorize(sandbox, params)
    _assert_redirect_error(response, params, error, description, "query")
    assert "alert" not in parse_qs(urlsplit(response.headers["location"]).query)["error_description"][0]
