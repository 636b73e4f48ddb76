"""Is my ``.env`` right? Live checks of a target's settings, one finding per setting, each with a fix.

:func:`helpers.config.load_target` already refused malformed settings and a discovery document whose
issuer differs. What only the servers can tell is checked here, with harmless requests:

- the SPA client and its callback: ``/authorize`` with them (the answer is a login page or an error);
- the web client's secret: a token request with a made-up code (``invalid_grant`` means the client
  authenticated; ``access_denied`` / ``invalid_client`` means the id or secret is wrong);
- the test user (``LAB_USER_*``): a password-realm login with the web client;
- the M2M client: a real client-credentials token for ``API_AUDIENCE`` (Auth0 counts these tokens);
- the GraphQL endpoint, the API token and the Authentication Profile that must trust this issuer.

>>> report = preflight(target)
>>> report.ok, report.table()
"""
from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import requests

from .config import ConfigError, Target, discover
from .verify import issuer_of_profile_domain
from .flows import (PASSWORD_REALM_GRANT, FlowError, client_credentials, error_from_response, password_realm,
                    start_authorization)
from .graphql import GraphQLCallError, GraphQLClient

__all__ = ["Check", "Preflight", "preflight"]

TIMEOUT = 10.0
STATUSES = ("ok", "problem", "skipped")
PROFILES_QUERY = "{ authenticationProfilesList { items { id name domain clientId } } }"


@dataclass(frozen=True)
class Check:
    """One live check: the settings it is about, ``ok`` / ``problem`` / ``skipped``, what was seen, what to do."""

    settings: str
    status: str
    evidence: str
    fix: str = ""


@dataclass(frozen=True)
class Preflight:
    """Every live check of one target, in order."""

    kind: str
    issuer: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no check found a problem (skipped checks are not problems)."""
        return all(check.status != "problem" for check in self.checks)

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status == "problem")

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([vars(check) for check in self.checks], columns=["settings", "status", "evidence", "fix"])

    def _repr_html_(self) -> str:
        verdict = "every check passed" if self.ok else f"{len(self.problems)} problem(s)"
        return (f"<p><b>Preflight of the {html.escape(self.kind)} target {html.escape(self.issuer)}:</b> "
                f"{verdict}</p>" + self.table().to_html(index=False))


def preflight(target: Target) -> Preflight:
    """Check the target's settings against its servers; never raises for a wrong setting."""
    web = _web(target)
    lab_user = _lab_user(target) if web.status != "problem" else Check(
        "LAB_USER_EMAIL, LAB_USER_PASSWORD", "skipped", "Not tried: the web application it logs in with failed.")
    checks = [_discovery(target), _spa(target), web, lab_user, _m2m(target), *_graphql(target)]
    return Preflight(target.kind, target.issuer, tuple(checks))


# -------------------------------------------------------------------- the checks
def _issuer_setting(target: Target) -> str:
    return {"auth0": "AUTH0_DOMAIN", "oidc": "OIDC_ISSUER"}.get(target.kind, "the sandbox")


def _discovery(target: Target) -> Check:
    setting = _issuer_setting(target)
    try:
        document = discover(target.issuer)
    except ConfigError as error:
        return Check(setting, "problem", str(error), f"Correct {setting} so that it names the issuer exactly.")
    same = all(document.get(k) == getattr(target, k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri"))
    return Check(setting, "ok" if same else "problem",
                 f"The discovery document names the issuer {document['issuer']} and its endpoints"
                 + ("." if same else ", which changed since the target was loaded."),
                 "" if same else "Restart the kernel to load the target again.")


def _spa(target: Target) -> Check:
    names = "SPA_CLIENT_ID, REDIRECT_URI"
    if not (target.spa_client_id and target.redirect_uri):
        return Check(names, "skipped", "No SPA client or redirect URI is set.", "Set both (see .env.example).")
    request = start_authorization(target)
    try:
        response = requests.get(request.url, allow_redirects=False, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return _unreachable(names, target.authorization_endpoint, exc)
    location = response.headers.get("location", "")
    if response.is_redirect and location.startswith(request.redirect_uri):
        params = dict(parse_qsl(urlsplit(location).query or urlsplit(location).fragment))
        if "error" in params:
            return Check("SPA_CLIENT_ID", "problem", f"/authorize sent the browser back with {params['error']}: "
                         f"{params.get('error_description', '')}",
                         "Allow the authorization code grant (with PKCE) for this application, or use the Client "
                         "ID of a Single Page Application.")
    if response.is_redirect or (response.status_code == 200 and _looks_like_login(response)):
        return Check(names, "ok", f"/authorize with this client and callback answered HTTP {response.status_code} "
                     "with the login page: the client exists and the callback is allowed.")
    error = error_from_response(response)
    text = f"{error.error} {error.description}".lower()
    if "callback" in text or "redirect" in text:
        return Check("REDIRECT_URI", "problem", f"/authorize answered HTTP {response.status_code}: "
                     f"{_short(error.description or error.error)}",
                     f"Add {target.redirect_uri} to the application's Allowed Callback URLs, or correct REDIRECT_URI.")
    return Check(names, "problem", f"/authorize answered HTTP {response.status_code}: "
                 f"{_short(error.description or error.error)}",
                 "Copy the Client ID of your Single Page Application into SPA_CLIENT_ID, and check that REDIRECT_URI "
                 "is in its Allowed Callback URLs.")


def _web(target: Target) -> Check:
    names = "WEB_CLIENT_ID, WEB_CLIENT_SECRET"
    if not target.web_client_id:
        return Check(names, "skipped", "No web application is set (optional: password-realm, confidential code flow).")
    body = {"grant_type": "authorization_code", "client_id": target.web_client_id,
            "client_secret": target.web_client_secret or "", "code": "preflight-" + secrets.token_urlsafe(12),
            "redirect_uri": target.redirect_uri or "http://localhost/"}
    try:
        response = requests.post(target.token_endpoint, data=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return _unreachable(names, target.token_endpoint, exc)
    error = error_from_response(response)
    if error.error == "invalid_grant":
        return Check(names, "ok", "The client authenticated: only the made-up code was refused "
                     f"(HTTP {response.status_code} invalid_grant), as it should be.")
    if error.error == "unauthorized_client":
        return Check(names, "problem", f"The client authenticated but may not use the code grant: "
                     f"{_short(error.description)}", "Enable the Authorization Code grant for this application.")
    return Check(names, "problem", f"The token endpoint refused the client: HTTP {response.status_code} "
                 f"{error.error}: {_short(error.description)}",
                 "Copy the Client ID and Client Secret of your Regular Web Application into WEB_CLIENT_ID and "
                 "WEB_CLIENT_SECRET.")


def _lab_user(target: Target) -> Check:
    names = "LAB_USER_EMAIL, LAB_USER_PASSWORD"
    if target.kind == "sandbox" or not target.users:
        return Check(names, "skipped", "No test user is set (optional: cells that log in without a browser).")
    if not target.web_client_id:
        return Check(names, "skipped", "A test user logs in with the web application: set WEB_CLIENT_ID too.")
    if target.kind == "oidc" and PASSWORD_REALM_GRANT not in target.grant_types:
        return Check(names, "skipped", "Not tried: the discovery document lists no password-realm grant (Auth0's "
                     "own); the test user is checked when you log in with your browser.")
    email, password = target.users[0]
    try:
        password_realm(target, email, password)
    except FlowError as error:
        return Check(names, "problem", f"password-realm for the test user: HTTP {error.status} {error.error}: "
                     f"{_short(error.description)}",
                     "Check the test user's email and password and CONNECTION, and enable the Password grant for "
                     "the web application (Advanced Settings > Grant Types).")
    except requests.RequestException as exc:
        return _unreachable(names, target.token_endpoint, exc)
    return Check(names, "ok", f"The test user logged in with password-realm on the {target.connection} connection.")


def _m2m(target: Target) -> Check:
    names = "M2M_CLIENT_ID, M2M_CLIENT_SECRET, API_AUDIENCE"
    if not target.m2m_client_id:
        return Check(names, "skipped", "No machine-to-machine application is set (optional).")
    try:
        tokens = client_credentials(target)
    except FlowError as error:
        text = f"{error.error} {error.description}"
        if error.status == 401 or error.error in ("invalid_client", "unauthorized"):
            return Check("M2M_CLIENT_ID, M2M_CLIENT_SECRET", "problem", f"HTTP {error.status} {_short(text)}",
                         "Copy the Client ID and Client Secret of your Machine to Machine Application.")
        if "service not found" in text.lower() or "audience" in text.lower() or error.error == "invalid_target":
            return Check("API_AUDIENCE", "problem", f"HTTP {error.status} {_short(text)}",
                         "Set API_AUDIENCE to the Identifier of your API (Applications > APIs), exactly.")
        return Check(names, "problem", f"HTTP {error.status} {_short(text)}",
                     "Authorize the M2M application for the API (APIs > Machine to Machine Applications).")
    except requests.RequestException as exc:
        return _unreachable(names, target.token_endpoint, exc)
    return Check(names, "ok", f"A {tokens.token_type} token for {target.audience} was issued "
                 f"(expires_in {tokens.expires_in}).")


def _graphql(target: Target) -> list[Check]:
    if not target.api_url:
        return [Check("GRAPHQL_URL", "skipped", "No GraphQL endpoint is set (optional).")]
    try:
        response = requests.post(target.api_url, json={"query": "{ __typename }"}, timeout=TIMEOUT)
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        return [Check("GRAPHQL_URL", "problem", f"{target.api_url} gave no GraphQL answer ({type(exc).__name__}).",
                      "Copy the workspace's API endpoint (Settings > Endpoints) into GRAPHQL_URL.")]
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        return [Check("GRAPHQL_URL", "problem", f"{target.api_url} answered HTTP {response.status_code} without data.",
                      "Copy the workspace's API endpoint (Settings > Endpoints) into GRAPHQL_URL.")]
    checks = [Check("GRAPHQL_URL", "ok", f"{target.api_url} answers GraphQL (HTTP {response.status_code}).")]
    if not target.api_token:
        return checks + [Check("API_TOKEN, AUTH_PROFILE_ID", "skipped",
                               "No API token: the Authentication Profiles cannot be read.")]
    try:
        items = GraphQLClient(target.api_url, target.api_token).execute(PROFILES_QUERY)["authenticationProfilesList"]
    except GraphQLCallError as error:
        return checks + [Check("API_TOKEN", "problem", f"{error.code}: {error.message}",
                               "Create an API token with the Administrator role (Settings > API Tokens).")]
    profiles = items["items"]
    trusting = [p for p in profiles if issuer_of_profile_domain(p["domain"] or "") == target.issuer]
    if not trusting:
        domains = ", ".join(p["domain"] for p in profiles) or "none"
        return checks + [Check("AUTH_PROFILE_ID", "problem", f"No Authentication Profile has this issuer's domain "
                               f"(profiles' domains: {domains}).", f"Add a profile with the domain {target.domain}.")]
    chosen = [p for p in trusting if p["id"] == target.auth_profile_id] if target.auth_profile_id else trusting
    if not chosen:
        return checks + [Check("AUTH_PROFILE_ID", "problem", f"{target.auth_profile_id} is not a profile of this "
                               "issuer.", "Copy the id of the profile: " + ", ".join(p["id"] for p in trusting))]
    if target.spa_client_id and not any(p["clientId"] == target.spa_client_id for p in chosen):
        return checks + [Check("AUTH_PROFILE_ID, SPA_CLIENT_ID", "problem", "The profile's client id is "
                               f"{chosen[0]['clientId']}, not SPA_CLIENT_ID: ID tokens for the SPA would be refused.",
                               "Put the SPA's Client ID in the profile (or correct SPA_CLIENT_ID).")]
    return checks + [Check("API_TOKEN, AUTH_PROFILE_ID", "ok", f"The profile {chosen[0]['name']!r} trusts this issuer "
                           "and the SPA client.")]


# -------------------------------------------------------------------- plumbing
def _unreachable(settings: str, url: str, exc: Exception) -> Check:
    return Check(settings, "problem", f"{url} did not answer ({type(exc).__name__}).",
                 "Check that the issuer is reachable from this machine.")


def _looks_like_login(response: requests.Response) -> bool:
    """A 200 page with a password field or a form: the provider's login page, not an error page."""
    text = response.text.lower()
    return "<form" in text and 'id="error-code"' not in text


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
