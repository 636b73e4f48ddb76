"""Where the lessons talk to: the offline sandbox (default) or a real tenant described in ``.env``.

A :class:`Target` is every URL and credential one lesson needs. The endpoints always come from
the provider's discovery document, fetched over HTTP, whose ``issuer`` must equal the expected
issuer byte for byte (OpenID Connect Discovery 1.0 §4.3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from dotenv import dotenv_values

from .sandbox import Sandbox, start_sandbox

DEFAULT_ENV_FILE = Path(__file__).resolve().parents[1] / ".env"
DEFAULT_CONNECTION = "Username-Password-Authentication"
DISCOVERY_PATH = "/.well-known/openid-configuration"
TIMEOUT = 10.0
KINDS = ("sandbox", "auth0", "oidc")
# keys each kind cannot do without, and keys that only make sense together (id -> secret)
REQUIRED = {"auth0": ("AUTH0_DOMAIN", "SPA_CLIENT_ID", "REDIRECT_URI"),
            "oidc": ("OIDC_ISSUER", "SPA_CLIENT_ID", "REDIRECT_URI")}
PAIRS = (("WEB_CLIENT_ID", "WEB_CLIENT_SECRET"), ("M2M_CLIENT_ID", "M2M_CLIENT_SECRET"))


class ConfigError(Exception):
    """The settings cannot describe a usable target; ``missing`` names absent ``.env`` keys."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


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

    @property
    def domain(self) -> str:
        """The issuer's host (``localhost:PORT`` or ``tenant.auth0.com``): what Auth0 SDKs call the domain."""
        return self.issuer.split("://", 1)[-1].rstrip("/")


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
    return document


def target_from_sandbox(sandbox: Sandbox) -> Target:
    """The target for a running sandbox (endpoints read from its discovery document)."""
    document = discover(sandbox.idp_url)
    return Target(
        kind="sandbox",
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        userinfo_endpoint=document.get("userinfo_endpoint"),
        jwks_uri=document["jwks_uri"],
        logout_endpoint=document["issuer"] + "v2/logout",  # the sandbox speaks Auth0's logout
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
    """Read ``.env`` (default: the project's) and return the sandbox or the tenant it describes."""
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
    missing = [k for k in REQUIRED[kind] if k not in values]
    missing += [secret for client, secret in PAIRS if client in values and secret not in values]
    if missing:
        raise ConfigError(f"AUTH_FLOWS_TARGET={kind} needs these keys in {path}: {', '.join(missing)} "
                          "(see .env.example).", tuple(missing))
    issuer = _auth0_issuer(values["AUTH0_DOMAIN"]) if kind == "auth0" else values["OIDC_ISSUER"]
    document = discover(issuer)
    logout = issuer + "v2/logout" if kind == "auth0" else document.get("end_session_endpoint")
    return Target(
        kind=kind,
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        userinfo_endpoint=document.get("userinfo_endpoint"),
        jwks_uri=document["jwks_uri"],
        logout_endpoint=logout,
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
    )


def _auth0_issuer(domain: str) -> str:
    """Auth0's issuer for a domain: ``https://DOMAIN/`` (an explicit ``http://`` is kept, for local tests)."""
    scheme, _, host = domain.rpartition("://")
    return f"{scheme or 'https'}://{host.strip('/')}/"
