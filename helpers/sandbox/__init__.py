"""The offline sandbox: an identity provider that speaks Auth0's protocol, an 8base-style GraphQL API, and a
sample single-page app served on an origin of its own.

>>> from helpers.sandbox import start_sandbox
>>> sandbox = start_sandbox()        # background threads; reused if already running
>>> sandbox.idp_url                  # 'http://localhost:PORT/'
>>> sandbox.sample_app_url           # open it in a browser: log in, renew silently, log out
>>> sandbox.clock.advance(3600)      # every token is an hour older
>>> sandbox.stop()

One folder per server: ``idp/`` (the identity provider) and ``api/`` (the GraphQL API) never import each other and
both stand on ``common/`` (clock, keys, CORS, request limits, seed files, the background server). ``runner`` starts
them and is the :class:`Sandbox` handle; ``sample_app_server`` serves the sample app. Import contracts in
``pyproject.toml`` keep these arrows true.
"""
from .common.clock import Clock
from .common.keys import KeyRing
from .idp.app import IdentityProvider, create_idp_app, issuer_for
from .idp.seed import DEFAULT_TENANT_FILE, SECOND_TENANT_FILE, Seed, load_seed
from .runner import Sandbox, launch_sandbox, start_sandbox

__all__ = [
    "DEFAULT_TENANT_FILE",
    "SECOND_TENANT_FILE",
    "Clock",
    "IdentityProvider",
    "KeyRing",
    "Sandbox",
    "Seed",
    "create_idp_app",
    "issuer_for",
    "launch_sandbox",
    "load_seed",
    "start_sandbox",
]
