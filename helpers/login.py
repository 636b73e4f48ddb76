"""Log a lab user in on whatever the target is, the way lesson 01 taught: authorization code + PKCE, SPA client.

On the sandbox a helper fills in the hosted login page; on a tenant or any OpenID Connect provider a person logs
in in their own browser (``helpers.flows.login``). On a generic provider the ID token is asked to carry the
email (OpenID Connect Core §5.5's ``claims`` parameter), because an 8base-style API finds its users by it.
"""
from __future__ import annotations

import requests

from .config import Target
from .flows import TokenSet, exchange_code, login, start_authorization
from .provider_check import EMAIL_IN_ID_TOKEN


def log_in(target: Target, email: str = "", password: str = "", *, audience: str | None = None,
           session: requests.Session | None = None) -> TokenSet:
    """The tokens of one login on the hosted page (``email``/``password``/``session`` are used on the sandbox only)."""
    claims = EMAIL_IN_ID_TOKEN if target.kind == "oidc" else None
    request = start_authorization(target, audience=audience, claims=claims)
    return exchange_code(target, request, login(target, request, email, password, session=session))
