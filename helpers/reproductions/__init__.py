"""Every error catalog entry made to happen live, against a running sandbox.

>>> reproduce("api-user-absent", sandbox)   # the raw error answer
>>> explain(reproduce("api-user-absent", sandbox)).id
'api-user-absent'

This drives the sandbox from the outside, as a client: logins, PKCE and the hosted login page go through
:mod:`helpers.flows`; each recipe then sends the one faulty request itself. It lives beside the sandbox, not
among the lessons' client helpers: the catalog (:mod:`helpers.catalog`) stays data plus ``explain()``.
The recipes, one module per family: :mod:`.idp` (identity provider), :mod:`.api` (GraphQL API and CORS),
:mod:`.client` (checks an app makes) and :mod:`.ws` (subscriptions); :mod:`.common` holds what they share.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import UnknownError
from . import api, client, idp, ws  # noqa: F401  (each registers its recipes)
from .common import REPRODUCERS, Answer

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["REPRODUCERS", "Answer", "reproduce"]


def reproduce(entry_id: str, sandbox: "Sandbox") -> Answer:
    """Make the error of ``entry_id`` happen against ``sandbox`` and return the raw answer.

    Server errors come back as the :class:`requests.Response`; client-side errors (state, nonce,
    at_hash, expiry, issuer checks) as ``{"error", "error_description"}`` from the library that raised
    them. Shared sandbox state (clock, settings, self sign-up) is restored; errors that need another
    tenant or an outage run in a throwaway sandbox. ``explain(reproduce(id, sandbox)).id == id``.
    """
    try:
        reproducer = REPRODUCERS[entry_id]
    except KeyError:
        raise UnknownError(f"No reproduction for {entry_id!r}: see catalog.entries() for the ids.") from None
    return reproducer(sandbox)
