"""Run one call and show what happened instead of a traceback: a lesson's cell keeps going after a refusal."""
from __future__ import annotations

from typing import Any

from .graphql import GraphQLCallError, GraphQLClient


def attempt(client: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Run one operation: return its data, or print the 8base error it raised (class, HTTP status, message, details)
    and return None."""
    try:
        return client.execute(query, variables)
    except GraphQLCallError as error:
        print(f"{type(error).__name__} (HTTP {error.status}): {error.message}")
        for key, value in error.details.items():
            print(f"  details.{key}: {value}")
        return None
