"""Small tools of lesson 08 (caching and latency): one raw GraphQL call and what the app sees of it, and a log
of a key-rotation experiment with readable key names."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pandas as pd
import requests

from .graphql import GraphQLClient


def ask(api_url: str, query: str, token: str | None = None) -> dict[str, Any]:
    """POST one GraphQL query, with the token as a bearer if given; the JSON answer (errors included)."""
    return GraphQLClient(api_url, token).post(query).json()


def outcome(answer: dict[str, Any]) -> str:
    """What the app sees: ``"ok"``, or the code of the first error."""
    errors = answer.get("errors")
    return errors[0].get("code", "error") if errors else "ok"


class RotationLog:
    """Rows of a key-rotation experiment: which key signed the token, what the provider publishes, the API's
    answer, and the API's JWKS fetches so far (``fetches`` counts them, e.g. ``sandbox.jwks_fetches``).

    Key ids are random thumbprints, so the rows name them ``k1``, ``k2``, ... in order of first appearance."""

    def __init__(self, api_url: str, jwks_uri: str, fetches: Callable[[], int]) -> None:
        self.api_url, self.jwks_uri, self.fetches = api_url, jwks_uri, fetches
        self.names: dict[str, str] = {}
        self.rows: list[dict[str, Any]] = []

    def key_name(self, kid: str) -> str:
        """``k1``, ``k2``, ... for this ``kid``, the same name every time."""
        return self.names.setdefault(kid, f"k{len(self.names) + 1}")

    def published(self) -> str:
        """The keys the identity provider publishes right now, by name."""
        keys = requests.get(self.jwks_uri, timeout=10).json()["keys"]
        return ", ".join(sorted((self.key_name(key["kid"]) for key in keys), key=lambda name: int(name[1:])))

    def step(self, what: str, token: str) -> dict[str, Any]:
        """Send ``{ user { id } }`` with the token and record one row (returned too)."""
        row = {"step": what, "token signed by": self.key_name(jwt.get_unverified_header(token)["kid"]),
               "JWKS publishes": self.published(), "API answer": outcome(ask(self.api_url, "{ user { id } }", token)),
               "JWKS fetches so far": self.fetches()}
        self.rows.append(row)
        return row

    def table(self) -> pd.DataFrame:
        """The rows so far."""
        return pd.DataFrame(self.rows)
