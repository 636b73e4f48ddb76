"""Auth Flows Lab helpers: the functions behind the lessons (and their answer key).

Modules, one idea each:

- :mod:`helpers.config`: where to talk to (the sandbox by default, or a real tenant named in ``.env``).
- :mod:`helpers.preflight`: live checks of a tenant's settings, one finding per setting with a fix (the doctor's
  report type).
- :mod:`helpers.flows`: one function per OAuth/OIDC flow, over HTTP, returning typed token sets (a package:
  records, authorize with the one PKCE, login_page (the one login-page reader), browser, grants, account).
- :mod:`helpers.tokens`: decode, explain and compare tokens (teaching views; nothing verified).
- :mod:`helpers.jwe`: tell an encrypted token (JWE, Auth0's access token without audience) by its header.
- :mod:`helpers.verify`: the one hardened verifier; :mod:`helpers.jwks`: its JWKS cache.
- :mod:`helpers.graphql`: a GraphQL client raising one exception per 8base error code.
- :mod:`helpers.endpoints`: send any token to the GraphQL API or `/userinfo` and record the answer.
- :mod:`helpers.subscriptions`: a GraphQL-over-WebSocket client, the token in ``connection_init``.
- :mod:`helpers.catalog`: the error catalog (``data/error_catalog.csv``) and ``explain()``: data, no clients.
- :mod:`helpers.exceptions`: every exception above, under one root :class:`LabError`, each with its ``catalog_id``.
- :mod:`helpers.catalog_views`: the catalog in short views (counts, one page at a time), for lesson 05.
- :mod:`helpers.doctor`: "why does my call fail?": facts gathered once, then ordered check functions, each
  finding with evidence and a fix; its ``Report``/``Finding`` are the preflight's too.
- :mod:`helpers.attacks`: forged tokens for the security lesson (each one a test the API must pass).
- :mod:`helpers.widgets`: thin ipywidgets views over the functions above (the doctor's widget among them).
- :mod:`helpers.cli`: the ``auth-flows-lab`` command line over the same functions (decode, verify, doctor, ...).
- :mod:`helpers.lessons`: the map of lessons and their navigation links.
- :mod:`helpers.wire`: print what went over the wire (raw HTTP, run-to-run noise masked; a browser's hops).
- :mod:`helpers.login`: one login the lesson-01 way (code + PKCE) on whatever the target is.
- :mod:`helpers.outcomes`: run a GraphQL operation and print the 8base error instead of a traceback.
- :mod:`helpers.settings_trial`: load a purpose-made ``.env`` from a temporary folder (lesson 09).
- :mod:`helpers.case_study`: lesson 06's desk (new people, their sign-up, the app's call, the doctor).
- :mod:`helpers.latency`: lesson 08's tools (one raw GraphQL call, its outcome, a key-rotation log).
- :mod:`helpers.sandbox`: the offline identity provider and GraphQL API, and a sample single-page app; the
  ``Sandbox`` handle's public controls (settings, key caches, users, roles) are the only way to change them.
  One folder per server (``sandbox.idp``, ``sandbox.api``) over ``sandbox.common`` (clock, keys, CORS,
  request limits); it imports only ``verify``, ``jwks`` and ``jwe`` from the modules above (import
  contracts in ``pyproject.toml``).
- :mod:`helpers.reproductions`: beside the sandbox, not for lessons to copy: every catalog entry made to happen
  live on a sandbox (lesson 05, tests/test_errors.py), built on :mod:`helpers.flows`.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .catalog import UnknownError
from .exceptions import (CliError, ConfigError, EntityExistsError, EntityNotFoundError, ExternalServiceError,
                         FlowError, GraphQLCallError, InternalError, InvalidArgumentError, InvalidTokenError,
                         KeySourceUnavailable, LabError, MissingHeaderError, NotAJwt, NotAuthorizedError,
                         SocketClosed, ThrottlingThresholdReachedError, TokenExpiredError, TokenRejected,
                         UserNotFoundError, ValidationError)

# every exception is public, as in PyJWT's __init__: ``except helpers.LabError`` catches any of them
__all__ = ["CliError", "ConfigError", "EntityExistsError", "EntityNotFoundError", "Expectations",
           "ExternalServiceError", "FlowError", "GraphQLCallError", "InternalError", "InvalidArgumentError",
           "InvalidTokenError", "KeySourceUnavailable", "LabError", "MissingHeaderError", "NotAJwt",
           "NotAuthorizedError", "Sandbox", "SocketClosed", "Target", "ThrottlingThresholdReachedError",
           "TokenExpiredError", "TokenRejected", "UnknownError", "UserNotFoundError", "ValidationError",
           "load_target", "start_sandbox", "verify_token"]

# Public name -> the module that defines it. Imported on first use (PEP 562), so ``import helpers.config`` or the
# command line does not pay for the sandbox and pandas; ``from helpers import start_sandbox`` works as before.
_HOME = {"Target": "config", "load_target": "config", "Sandbox": "sandbox", "start_sandbox": "sandbox",
         "Expectations": "verify", "verify_token": "verify"}

if TYPE_CHECKING:
    from .config import Target, load_target
    from .sandbox import Sandbox, start_sandbox
    from .verify import Expectations, verify_token


def __getattr__(name: str) -> Any:
    """The public names of ``helpers``, each imported from its module when first asked for."""
    if name not in _HOME:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
