"""How a case is sent (bearer, auth, custom, verifier, static), and the token builders several families use."""
from __future__ import annotations

import base64
from typing import Any, Callable

from helpers.jwks import JwksCache
from helpers.verify import Expectations, TokenRejected, verify_token
from tests.token_cases.world import ATTACKER, Outcome, Serve, World, b64u, raw_request

B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# ---------------------------------------------------------------------------------------------------------
# How a case is sent
# ---------------------------------------------------------------------------------------------------------
Build = Callable[[World], Any]


def bearer(build: Build) -> Callable[[World], Outcome]:
    """POST with ``Authorization: Bearer <token>``."""
    def send(w: World) -> Outcome:
        token = build(w)
        return raw_request(w, [("Authorization", "Bearer " + token)], token=token)
    return send


def auth(build: Build) -> Callable[[World], Outcome]:
    """POST with the Authorization value(s) the case writes itself: a str/bytes, or a list for several headers."""
    def send(w: World) -> Outcome:
        values = build(w)
        values = values if isinstance(values, list) else [values]
        return raw_request(w, [("Authorization", v) for v in values], token=w.GOOD)
    return send


def custom(send: Callable[[World], Outcome]) -> Callable[[World], Outcome]:
    return send


def verifier(build: Build, expect: Callable[[World], Expectations] | None = None,
             keys: Callable[[World], Callable[[str | None], Any]] | None = None) -> Callable[[World], Outcome]:
    """``verify_token`` called directly (by default configured exactly as the API configures it)."""
    def send(w: World) -> Outcome:
        token = build(w)
        lookup = keys(w) if keys else w.api_keys
        expectations = expect(w) if expect else w.api_expectations()
        try:
            claims = verify_token(token, lookup, expectations, now=w.NOW)
        except TokenRejected as rejected:
            return Outcome("verdict", token=token, rejected=rejected)
        # any other exception propagates and fails the case: the verifier must never let one escape
        return Outcome("verdict", token=token, claims=claims)
    return send


def static(check: Callable[[World], list[str]]) -> Callable[[World], Outcome]:
    return lambda w: Outcome("static", problems=check(w))


# ---------------------------------------------------------------------------------------------------------
# Builders used by several cases
# ---------------------------------------------------------------------------------------------------------
def signed(w: World, header: Any = None, **claims: Any) -> str:
    """A token signed by the IdP's current key; ``header`` replaces the standard one."""
    return w.craft(w.HDR if header is None else header, w.claims(**claims))


def by_attacker(w: World, header: Any = None, **claims: Any) -> str:
    return w.craft(w.HDR if header is None else header, w.claims(**claims), key=ATTACKER)


def hs256(w: World, secret: bytes, header: dict | None = None) -> str:
    return w.craft(header or {"alg": "HS256", "typ": "JWT"}, w.claims(), signer=("hs256", secret))



def misconfigured(*algorithms: str) -> Callable[[World], Expectations]:
    return lambda w: w.api_expectations(algorithms=algorithms)



def noncanonical(sig: str) -> str:
    """Flip an unused low bit of the last base64url character: same bytes, another string (ENC-04)."""
    return sig[:-1] + B64U[B64U.index(sig[-1]) ^ 1]


def padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def canonical(segment: str) -> bool:
    """Whether a base64url segment is the one canonical encoding of its bytes (no unused bit set)."""
    try:
        raw = base64.urlsafe_b64decode(padded(segment))
    except ValueError:
        return False
    return b64u(raw) == segment



def jwks_served(body: bytes, content_type: str) -> Callable[[World], Callable[[str | None], Any]]:
    """A real JwksCache fetching from a loopback endpoint that answers ``body``."""
    def keys(w: World) -> Callable[[str | None], Any]:
        server = Serve(body, content_type)
        w.cleanups.append(server.close)
        return JwksCache(server.url, timeout=2).key_for
    return keys


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def header_text(w: World, extra: str) -> str:
    return '{"alg":"RS256","typ":"JWT","kid":"%s",%s}' % (w.KID, extra)


