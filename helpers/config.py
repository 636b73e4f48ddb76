"""Where the lessons talk to: the offline sandbox (default) or a real tenant described in ``.env``.

A :class:`Target` is every URL and credential one lesson needs. The endpoints always come from
the provider's discovery document, fetched over HTTP, whose ``issuer`` must equal the expected
issuer byte for byte (OpenID Connect Discovery 1.0 §4.3). Settings are checked before anything is
fetched; every mistake is a :class:`ConfigError` that names the setting and what to do (all the
mistakes of one file at once). Live checks of the clients are in :mod:`helpers.preflight`.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from dotenv import dotenv_values

from .exceptions import ConfigError

if TYPE_CHECKING:  # the sandbox is imported only when the target is the sandbox (start_sandbox below)
    from .sandbox import Sandbox


DEFAULT_ENV_FILE = Path(__file__).resolve().parents[1] / ".env"
ENV_FILE_VARIABLE = "AUTH_FLOWS_ENV_FILE"  # names another settings file than the project's .env (tests, CI)
DEFAULT_CONNECTION = "Username-Password-Authentication"
DISCOVERY_PATH = "/.well-known/openid-configuration"
TIMEOUT = 10.0
KINDS = ("sandbox", "auth0", "oidc")
# keys each kind cannot do without, and keys that only make sense together (id -> secret)
REQUIRED = {"auth0": ("AUTH0_DOMAIN", "SPA_CLIENT_ID", "REDIRECT_URI"),
            "oidc": ("OIDC_ISSUER", "SPA_CLIENT_ID", "REDIRECT_URI")}
PAIRS = (("WEB_CLIENT_ID", "WEB_CLIENT_SECRET"), ("M2M_CLIENT_ID", "M2M_CLIENT_SECRET"),
         ("LAB_USER_EMAIL", "LAB_USER_PASSWORD"))
# keys that need another one: the M2M client asks tokens for an audience; the API keys need the API
NEEDS = (("M2M_CLIENT_ID", "API_AUDIENCE", "the client credentials grant asks a token for an API (audience)"),
         ("AUTH_PROFILE_ID", "GRAPHQL_URL", "an Authentication Profile belongs to a GraphQL workspace"),
         ("API_TOKEN", "GRAPHQL_URL", "an API token is sent to a GraphQL workspace"))
KNOWN_KEYS = ("AUTH_FLOWS_TARGET", "AUTH0_DOMAIN", "OIDC_ISSUER", "SPA_CLIENT_ID", "REDIRECT_URI", "WEB_CLIENT_ID",
              "WEB_CLIENT_SECRET", "M2M_CLIENT_ID", "M2M_CLIENT_SECRET", "API_AUDIENCE", "CONNECTION", "GRAPHQL_URL",
              "AUTH_PROFILE_ID", "API_TOKEN", "LAB_USER_EMAIL", "LAB_USER_PASSWORD", "AUDIENCE_PARAMETER",
              "SANDBOX_API_TRUSTS_ISSUER")
# How a token request names the API: Auth0's own ``audience`` parameter
# (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens), or the standard's ``resource``
# (RFC 8707 §2), sent at /authorize and at /token. Default: ``audience`` for auth0, ``resource`` for oidc.
AUDIENCE_PARAMETERS = ("audience", "resource")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # plain http is accepted only for these (local test servers)


@dataclass(frozen=True)
class Target:
    """One identity provider (and API) the lessons talk to, with its clients and demo users."""

    kind: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    jwks_uri: str
    logout_endpoint: str | None = None
    spa_client_id: str | None = None
    web_client_id: str | None = None
    web_client_secret: str | None = field(default=None, repr=False)
    m2m_client_id: str | None = None
    m2m_client_secret: str | None = field(default=None, repr=False)
    audience: str | None = None
    connection: str = DEFAULT_CONNECTION
    redirect_uri: str | None = None
    api_url: str | None = None
    auth_profile_id: str | None = None
    api_token: str | None = field(default=None, repr=False)
    users: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    audience_parameter: str = "audience"
    api_trusts_provider: bool = False  # the GraphQL API is the sandbox's, trusting this provider (sandbox behaviour)
    iss_parameter_supported: bool = False  # RFC 9207: discovery's authorization_response_iss_parameter_supported
    grant_types: tuple[str, ...] = ()  # discovery's grant_types_supported (Auth0's document has none)

    @property
    def domain(self) -> str:
        """The issuer's host (``localhost:PORT`` or ``tenant.auth0.com``): what Auth0 SDKs call the domain."""
        return self.issuer.split("://", 1)[-1].rstrip("/")

    def needs_sandbox(self, why: str) -> bool:
        """True on the sandbox; otherwise print why this cell is skipped and what to set, and return False."""
        if self.kind == "sandbox":
            return True
        print(f"Skipped on your {self.kind} tenant ({self.issuer}): this cell needs the sandbox, because {why}. "
              "To run it, set AUTH_FLOWS_TARGET=sandbox in .env (or remove .env) and restart the kernel.")
        return False

    def needs_sandbox_api(self, why: str) -> bool:
        """True when the GraphQL API is the sandbox's own (the sandbox, or ``SANDBOX_API_TRUSTS_ISSUER=true``);
        otherwise print why this cell is skipped and what to set, and return False."""
        if self.kind == "sandbox" or self.api_trusts_provider:
            return True
        print(f"Skipped on your {self.kind} tenant ({self.issuer}): this cell needs the sandbox's GraphQL API, because "
              f"{why}. To run it, set SANDBOX_API_TRUSTS_ISSUER=true in .env (without GRAPHQL_URL) and restart "
              "the kernel.")
        return False

    def needs_grant(self, grant_type: str, why: str) -> bool:
        """True when the provider takes this grant (Auth0 and the sandbox, or its discovery lists it); otherwise
        print why this cell is skipped and return False."""
        if self.kind in ("sandbox", "auth0") or grant_type in self.grant_types:
            return True
        print(f"Skipped on your {self.kind} provider ({self.issuer}): its discovery document does not list the grant "
              f"{grant_type}, and {why}.")
        return False

    def needs(self, *attributes: str) -> bool:
        """True when the target has every one of these settings; otherwise print which to set and return False."""
        absent = [_SETTING_OF.get(a, a) for a in attributes if not getattr(self, a)]
        if not absent:
            return True
        print(f"Skipped: this cell needs {', '.join(absent)}, which your {self.kind} target does not set. "
              "Add it to .env (see .env.example) and restart the kernel.")
        return False


_SETTING_OF = {"spa_client_id": "SPA_CLIENT_ID", "web_client_id": "WEB_CLIENT_ID",
               "web_client_secret": "WEB_CLIENT_SECRET", "m2m_client_id": "M2M_CLIENT_ID",
               "m2m_client_secret": "M2M_CLIENT_SECRET", "audience": "API_AUDIENCE", "redirect_uri": "REDIRECT_URI",
               "api_url": "GRAPHQL_URL", "auth_profile_id": "AUTH_PROFILE_ID", "api_token": "API_TOKEN",
               "users": "demo users (only the sandbox has them)",
               "userinfo_endpoint": "a userinfo_endpoint in the discovery document",
               "logout_endpoint": "a logout endpoint (end_session_endpoint in the discovery document)"}


def discover(issuer: str) -> dict[str, Any]:
    """Fetch the issuer's discovery document and check that it names exactly this issuer."""
    url = issuer.rstrip("/") + DISCOVERY_PATH  # Discovery §4: the issuer minus its trailing slash
    try:
        response = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ConfigError(f"Cannot fetch {url}: {exc.__class__.__name__}. Is the issuer right and reachable?") from None
    if response.status_code != 200:
        raise ConfigError(f"{url} answered HTTP {response.status_code}, not the discovery document.")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ConfigError(f"{url} did not answer a JSON object.")
    if document.get("issuer") != issuer:
        raise ConfigError(f"The discovery document at {url} names the issuer {document.get('issuer')!r}, "
                          f"not {issuer!r}; they must be identical (OIDC Discovery §4.3), trailing slash included.")
    absent = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)]
    if absent:
        raise ConfigError(f"The discovery document at {url} lacks {', '.join(absent)}.")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"):
        value = document.get(name)
        if value is not None and (problem := _url_problem(value, name)) is not None:
            raise ConfigError(f"The discovery document at {url} has an unusable {name}: {problem}")
    return document


def _endpoints(document: dict[str, Any], logout_endpoint: str | None) -> dict[str, Any]:
    """The :class:`Target` fields a discovery document gives."""
    return {"issuer": document["issuer"], "authorization_endpoint": document["authorization_endpoint"],
            "token_endpoint": document["token_endpoint"], "userinfo_endpoint": document.get("userinfo_endpoint"),
            "jwks_uri": document["jwks_uri"], "logout_endpoint": logout_endpoint,
            "iss_parameter_supported": document.get("authorization_response_iss_parameter_supported") is True,
            "grant_types": tuple(g for g in document.get("grant_types_supported") or () if isinstance(g, str))}


def start_sandbox(**options: Any) -> Sandbox:
    """Start (or reuse) the offline sandbox; imported here, on first use, so ``import helpers.config`` stays light."""
    from .sandbox import start_sandbox as start

    return start(**options)


def target_from_sandbox(sandbox: Sandbox) -> Target:
    """The target for a running sandbox (endpoints read from its discovery document)."""
    document = discover(sandbox.idp_url)
    return Target(
        kind="sandbox",
        # Auth0's /v2/logout, unless the sandbox's seed puts logout at an OIDC end_session_endpoint
        **_endpoints(document, document.get("end_session_endpoint") or document["issuer"] + "v2/logout"),
        spa_client_id=sandbox.spa_client_id,
        web_client_id=sandbox.web_client_id,
        web_client_secret=sandbox.web_client_secret,
        m2m_client_id=sandbox.m2m_client_id,
        m2m_client_secret=sandbox.m2m_client_secret,
        audience=sandbox.api_audience,
        connection=sandbox.connection,
        redirect_uri=sandbox.redirect_uri,
        api_url=sandbox.api_url,
        auth_profile_id=sandbox.auth_profile_id,
        api_token=sandbox.api_token,
        users=tuple((u["email"], u["password"]) for u in sandbox.users),
    )


def load_target(env_file: str | Path | None = None) -> Target:
    """Read ``.env`` (default: the project's, or the file named by ``$AUTH_FLOWS_ENV_FILE``) and return the
    sandbox or the tenant it describes."""
    if env_file is None and os.environ.get(ENV_FILE_VARIABLE):
        env_file = os.environ[ENV_FILE_VARIABLE]
    path = Path(env_file) if env_file is not None else DEFAULT_ENV_FILE
    if not path.is_file():
        if env_file is not None:
            raise ConfigError(f"{path} does not exist (leave env_file out to use the sandbox).")
        return target_from_sandbox(start_sandbox())
    values = {k: v.strip() for k, v in dotenv_values(path).items() if v is not None and v.strip()}
    kind = values.get("AUTH_FLOWS_TARGET", "sandbox").lower()
    if kind not in KINDS:
        raise ConfigError(f"AUTH_FLOWS_TARGET in {path} is {kind!r}; use one of: {', '.join(KINDS)}.")
    if kind == "sandbox":
        return target_from_sandbox(start_sandbox())
    check_settings(values, kind, path)
    issuer = _auth0_issuer(values["AUTH0_DOMAIN"]) if kind == "auth0" else values["OIDC_ISSUER"]
    document = discover(issuer)
    if _yes(values.get("SANDBOX_API_TRUSTS_ISSUER")):  # the sandbox's API, trusting this provider's ID tokens
        api = start_sandbox(trust_issuer=document["issuer"], trust_client_id=values["SPA_CLIENT_ID"])
        values.update(GRAPHQL_URL=api.api_url, AUTH_PROFILE_ID=api.trusted_auth_profile_id or "",
                      API_TOKEN=api.api_token)
    logout = issuer + "v2/logout" if kind == "auth0" else document.get("end_session_endpoint")
    return Target(
        kind=kind,
        **_endpoints(document, logout),
        spa_client_id=values.get("SPA_CLIENT_ID"),
        web_client_id=values.get("WEB_CLIENT_ID"),
        web_client_secret=values.get("WEB_CLIENT_SECRET"),
        m2m_client_id=values.get("M2M_CLIENT_ID"),
        m2m_client_secret=values.get("M2M_CLIENT_SECRET"),
        audience=values.get("API_AUDIENCE"),
        connection=values.get("CONNECTION", DEFAULT_CONNECTION),
        redirect_uri=values.get("REDIRECT_URI"),
        api_url=values.get("GRAPHQL_URL"),
        auth_profile_id=values.get("AUTH_PROFILE_ID"),
        api_token=values.get("API_TOKEN"),
        users=((values["LAB_USER_EMAIL"], values["LAB_USER_PASSWORD"]),) if "LAB_USER_EMAIL" in values else (),
        audience_parameter=values.get("AUDIENCE_PARAMETER", "resource" if kind == "oidc" else "audience").lower(),
        api_trusts_provider=_yes(values.get("SANDBOX_API_TRUSTS_ISSUER")),
    )


def _yes(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def configured_kind(env_file: str | Path | None = None) -> str:
    """The kind of target the settings name (``sandbox`` without any), read without a request."""
    name = env_file or os.environ.get(ENV_FILE_VARIABLE) or DEFAULT_ENV_FILE
    path = Path(name)
    values = dotenv_values(path) if path.is_file() else {}
    return (values.get("AUTH_FLOWS_TARGET") or "sandbox").strip().lower()


def check_settings(values: dict[str, str], kind: str, path: str | Path = ".env") -> None:
    """Check a tenant's settings without any network: raise one :class:`ConfigError` listing every mistake."""
    missing = [k for k in REQUIRED[kind] if k not in values]
    missing += [secret for client, secret in PAIRS if client in values and secret not in values]
    missing += [needed for key, needed, _ in NEEDS if key in values and needed not in values]
    missing = list(dict.fromkeys(missing))
    problems: list[tuple[str, str]] = []
    for key, needed, reason in NEEDS:
        if key in values and needed not in values:
            problems.append((needed, f"{key} is set, so set {needed} too: {reason}."))
    for key in values:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.8)
            if close:
                problems.append((key, f"{key} is not a setting; did you mean {close[0]}? Rename it."))
    if kind == "auth0" and "OIDC_ISSUER" in values:
        problems.append(("OIDC_ISSUER", "OIDC_ISSUER is read only with AUTH_FLOWS_TARGET=oidc; for Auth0 set "
                         "AUTH0_DOMAIN and remove OIDC_ISSUER (or switch AUTH_FLOWS_TARGET to oidc)."))
    if "AUTH0_DOMAIN" in values and kind == "auth0":
        problems += _domain_problems(values["AUTH0_DOMAIN"])
    if "OIDC_ISSUER" in values and kind == "oidc":
        problem = _url_problem(values["OIDC_ISSUER"], "OIDC_ISSUER", issuer=True)
        if problem:
            problems.append(("OIDC_ISSUER", problem))
    for key in ("REDIRECT_URI", "GRAPHQL_URL"):
        problem = _url_problem(values[key], key) if key in values else None
        if problem:
            problems.append((key, problem))
    if _yes(values.get("SANDBOX_API_TRUSTS_ISSUER")):
        for key in ("GRAPHQL_URL", "AUTH_PROFILE_ID", "API_TOKEN"):
            if key in values:
                problems.append((key, f"SANDBOX_API_TRUSTS_ISSUER=true gives the sandbox's API (its URL, profile and "
                                      f"token); remove {key}, or set SANDBOX_API_TRUSTS_ISSUER=false to use yours."))
    if values.get("AUDIENCE_PARAMETER", "audience").lower() not in AUDIENCE_PARAMETERS:
        problems.append(("AUDIENCE_PARAMETER", "AUDIENCE_PARAMETER is audience (Auth0) or resource (RFC 8707)."))
    if "REDIRECT_URI" in values and urlsplit(values["REDIRECT_URI"]).fragment:
        problems.append(("REDIRECT_URI", "REDIRECT_URI must not have a #fragment (RFC 6749 §3.1.2); remove it."))
    if not missing and not problems:
        return
    lines = []
    if missing:
        lines.append(f"AUTH_FLOWS_TARGET={kind} needs these keys in {path}: {', '.join(missing)} (see .env.example).")
    lines += [f"{name}: {what}" for name, what in problems]
    raise ConfigError("\n".join(lines), tuple(missing), tuple(problems))


def _url_problem(value: str, setting: str, issuer: bool = False) -> str | None:
    """What is wrong with a URL setting (``None`` if nothing): absolute, https (http on loopback), no query."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is no number
    except ValueError:
        return f"{setting} is not a valid URL; write it as https://host/path."
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        return f"{setting} must be an absolute https:// URL (got {_show(value)})."
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return f"{setting} must use https:// (plain http is accepted only for localhost test servers)."
    if issuer and (parts.query or parts.fragment):
        return f"{setting} must not have a ?query or #fragment (OIDC Discovery §4.1); use the issuer exactly."
    return None


def _domain_problems(domain: str) -> list[tuple[str, str]]:
    """What is wrong with AUTH0_DOMAIN: it must be a host (optionally with https://), nothing more."""
    url = domain if "://" in domain else "https://" + domain
    problem = _url_problem(url, "AUTH0_DOMAIN")
    if problem:
        return [("AUTH0_DOMAIN", problem + " Write only the host, such as your-tenant.us.auth0.com.")]
    parts = urlsplit(url)
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        return [("AUTH0_DOMAIN", f"AUTH0_DOMAIN is a host, not a URL with a path ({_show(domain)}): write only the "
                 "host, such as your-tenant.us.auth0.com (the Domain field of the application's settings).")]
    return []


def _show(value: str, limit: int = 60) -> str:
    """A setting's value for an error message: quoted and cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _auth0_issuer(domain: str) -> str:
    """Auth0's issuer for a domain: ``https://DOMAIN/`` (an explicit ``http://`` is kept, for local tests)."""
    scheme, _, host = domain.rpartition("://")
    return f"{scheme or 'https'}://{host.strip('/')}/"
