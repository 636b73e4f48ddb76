"""Obtaining tokens: one function per OAuth 2.0 / OpenID Connect flow, over HTTP only.

Every function talks to the target's endpoints with ``requests`` and returns typed records that
keep the raw HTTP exchanges, so a lesson can print exactly what went over the wire
(:meth:`HttpExchange.as_text`, secrets redacted). The ``sandbox_*`` functions play the browser on
the sandbox's hosted login pages; against a real tenant a person logs in in a real browser.

Modules: :mod:`.records` (what flows return), :mod:`.authorize` (PKCE, the ``/authorize`` URL, callback
checks), :mod:`.login_page` (the one reader of a hosted login page), :mod:`.browser` (a simulated or a
person's browser), :mod:`.grants` (the token endpoint), :mod:`.account` (userinfo, logout, sign-up).
"""
from .account import logout_url, sign_up, userinfo
from .authorize import check_issuer, parse_callback, pkce_challenge, pkce_pair, start_authorization
from .browser import (LOGIN_WAIT, LOOPBACK_HOSTS, MAX_HOPS, browser_callback, browser_login, login, sandbox_login,
                      sandbox_social_login)
from .grants import (PASSWORD_REALM_GRANT, client_credentials, error_from_response, exchange_code, implicit_login,
                     password_realm, password_realm_body, refresh)
from .login_page import LoginForm, LoginPage, password_login
from .records import (SECRET_FIELDS, SHOWN_CHARS, TIMEOUT, TOKEN_FIELDS, AuthorizationRequest, Callback, FlowError,
                      HttpExchange, TokenSet)

__all__ = [
    "LOGIN_WAIT", "LOOPBACK_HOSTS", "MAX_HOPS", "PASSWORD_REALM_GRANT", "SECRET_FIELDS", "SHOWN_CHARS", "TIMEOUT",
    "TOKEN_FIELDS", "AuthorizationRequest", "Callback", "FlowError", "HttpExchange", "LoginForm", "LoginPage",
    "TokenSet", "browser_callback", "browser_login", "check_issuer", "client_credentials", "error_from_response",
    "exchange_code", "implicit_login", "login", "logout_url", "parse_callback", "password_login", "password_realm", "password_realm_body",
    "pkce_challenge", "pkce_pair", "refresh", "sandbox_login", "sandbox_social_login", "sign_up",
    "start_authorization", "userinfo",
]
