"""Auth Flows Lab helpers: the functions behind the lessons.

Public surface:

- :func:`start_sandbox` / :class:`Sandbox`: the offline identity provider (and API) on loopback.
- :func:`verify_token`, :class:`Expectations`, :class:`TokenRejected`: the one hardened JWT verifier.
"""
from .sandbox import Sandbox, start_sandbox
from .verify import Expectations, TokenRejected, verify_token

__all__ = ["Expectations", "Sandbox", "TokenRejected", "start_sandbox", "verify_token"]
