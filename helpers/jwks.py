"""A JWKS cache for verifiers: fetch the issuer's public keys once, then answer from memory.

What it promises (``shared/reference/jwt-security-cases.md`` §1.6 and §3.2):

- one fetch serves many verifications (``ttl``); concurrent misses share one fetch;
- a token with an unknown ``kid`` triggers at most one refetch per ``cooldown``, failed
  fetches included, so a flood of made-up ``kid``s cannot hammer the identity provider;
- keys already in memory are served while a refresh is in flight, and kept through an
  outage for ``stale_for`` seconds after the ``ttl``;
- every fetch is bounded: ``timeout``, no redirects, at most ``max_bytes``; a body that is
  not a JWKS (HTML, private keys, no usable key) fails closed.

``ttl=0`` turns caching off: one fetch per verification (lesson 08 measures the cost).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import jwt
import requests
import urllib3

from .verify import KeySourceUnavailable

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})


@dataclass(frozen=True)
class JwksStats:
    """What the cache has done so far (for lessons and tests)."""

    fetches: int
    failed_fetches: int
    kids: tuple[str, ...]
    age: float | None


class JwksCache:
    """Public keys of one issuer, by ``kid``. Use :meth:`key_for` as a :data:`helpers.verify.KeyLookup`."""

    def __init__(self, jwks_uri: str, ttl: float = 600, cooldown: float = 30, timeout: float = 3.0,
                 stale_for: float = 3600, max_bytes: int = 1_000_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not jwks_uri.startswith(("http://", "https://")):
            raise ValueError("the JWKS URI must be http(s)")
        self.jwks_uri = jwks_uri
        self.ttl = ttl
        self.cooldown = cooldown
        self.timeout = timeout
        self.stale_for = stale_for
        self.max_bytes = max_bytes
        self._monotonic = monotonic
        self._fetch_lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._fetches = 0
        self._failed = 0
        self._last_failed = False

    # ------------------------------------------------------------------ lookups
    def key_for(self, kid: str | None) -> Any:
        """The public key for ``kid``: ``KeyError`` if the issuer has no such key,
        :class:`KeySourceUnavailable` if the keys cannot be had at all."""
        now = self._monotonic()
        if self.ttl > 0 and self._fresh(now):
            key = self._lookup(self._keys, kid)
            if key is not None:
                return key
            return self._refresh_for(kid, unknown_kid=True)
        return self._refresh_for(kid, unknown_kid=False)

    def stats(self) -> JwksStats:
        age = None if self._fetched_at is None else self._monotonic() - self._fetched_at
        return JwksStats(self._fetches, self._failed, tuple(self._keys), age)

    def clear(self) -> None:
        """Forget every key (the next verification fetches)."""
        with self._fetch_lock:
            self._keys, self._fetched_at, self._last_attempt = {}, None, None

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.ttl

    @staticmethod
    def _lookup(keys: dict[str, Any], kid: str | None) -> Any:
        if kid is None:  # OIDC: without a kid, a single published key is the key
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    # ------------------------------------------------------------------ refreshing
    def _refresh_for(self, kid: str | None, unknown_kid: bool) -> Any:
        started = self._fetched_at
        if not self._fetch_lock.acquire(blocking=False):
            # A fetch is in flight: a key we already hold is served without waiting for it.
            if self.ttl > 0 and not unknown_kid:
                key = self._lookup(self._keys, kid) if self._within_stale_window(self._monotonic()) else None
                if key is not None:
                    return key
            self._fetch_lock.acquire()
        try:  # single flight: late arrivals reuse the fetch that just finished
            return self._refresh_locked(kid, unknown_kid, started)
        finally:
            self._fetch_lock.release()

    def _within_stale_window(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.ttl + self.stale_for

    def _refresh_locked(self, kid: str | None, unknown_kid: bool, started: float | None) -> Any:
        now = self._monotonic()
        if self._fetched_at != started and self._fetched_at is not None and self.ttl > 0:
            key = self._lookup(self._keys, kid)
            if key is not None:
                return key
            if unknown_kid:
                raise KeyError(kid)
        cooling = (self.ttl > 0 and self._last_attempt is not None
                   and now - self._last_attempt < self.cooldown)
        # The cooldown spaces refetches for unknown kids and retries after a failure; it never stops a
        # routine refresh when memory cannot serve the key and the last fetch went fine.
        if cooling and (unknown_kid or self._last_failed or self._within_stale_window(now)):
            # keys past ttl + stale_for count as none: fail closed as the fetching call did
            return self._from_memory(kid, now, unavailable=not self._within_stale_window(now))
        self._last_attempt = now
        try:
            keys = self._fetch()
        except KeySourceUnavailable:
            self._failed += 1
            self._last_failed = True
            return self._from_memory(kid, now, unavailable=True)
        self._last_failed = False
        self._keys, self._fetched_at = keys, self._monotonic()
        key = self._lookup(keys, kid)
        if key is None:
            raise KeyError(kid)
        return key

    def _from_memory(self, kid: str | None, now: float, unavailable: bool) -> Any:
        """Serve a known key from memory (stale keys too, within ``stale_for``)."""
        key = self._lookup(self._keys, kid) if self._within_stale_window(now) else None
        if key is not None:
            return key
        if unavailable:
            raise KeySourceUnavailable("the JWKS could not be fetched")
        raise KeyError(kid)

    def _fetch(self) -> dict[str, Any]:
        """One bounded GET of the JWKS; anything but a clean key set fails closed."""
        self._fetches += 1
        return parse_jwks(bounded_get(self.jwks_uri, self.timeout, self.max_bytes, "the JWKS"))


def bounded_get(url: str, timeout: float, max_bytes: int, what: str) -> bytes:
    """The body of a GET answered 200, read within ``max_bytes`` and ``timeout``; else :class:`KeySourceUnavailable`.

    ``timeout`` bounds each socket wait; a deadline (real time) bounds the whole body, so an endpoint trickling
    a byte at a time cannot hold the caller open. Redirects are refused unread (see :func:`_refuse_unless_200`).
    """
    deadline = time.monotonic() + timeout
    try:
        with requests.get(url, timeout=timeout, allow_redirects=False, stream=True,
                          hooks={"response": _refuse_unless_200}) as response:
            body = b""
            while chunk := response.raw.read1(65536, decode_content=True):  # returns what has arrived
                body += chunk
                if len(body) > max_bytes:
                    raise KeySourceUnavailable(f"{what} is too large")
                if time.monotonic() > deadline:
                    raise KeySourceUnavailable(f"{what} endpoint is too slow")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        raise KeySourceUnavailable(f"{what} endpoint did not answer") from None
    return body


def discovered_jwks_uri(issuer: str, timeout: float = 5.0, max_bytes: int = 1_000_000) -> str | None:
    """The ``jwks_uri`` of the issuer's discovery document (OIDC Discovery §4), or None when there is no usable
    document: none, not JSON, an ``issuer`` not identical to this one (§4.3), or no absolute ``jwks_uri``."""
    try:
        document = json.loads(bounded_get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout,
                                          max_bytes, "the discovery document"))
    except (KeySourceUnavailable, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        return None
    jwks_uri = document.get("jwks_uri")
    return jwks_uri if isinstance(jwks_uri, str) and jwks_uri.startswith(("http://", "https://")) else None


def _refuse_unless_200(response: requests.Response, **_: Any) -> None:
    """Runs before ``requests`` handles redirects: even with ``allow_redirects=False`` it reads the whole
    body of a 3xx (to offer ``response.next``), past ``max_bytes`` and the deadline. Refuse it unread."""
    if response.status_code != 200:
        response.close()
        raise KeySourceUnavailable(f"HTTP {response.status_code}")


def parse_jwks(body: bytes) -> dict[str, Any]:
    """RSA signing keys by ``kid`` from a JWKS document; raises :class:`KeySourceUnavailable`."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise KeySourceUnavailable("the JWKS is not JSON") from None
    raw_keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(raw_keys, list):
        raise KeySourceUnavailable("the JWKS has no key list")
    keys: dict[str, Any] = {}
    for raw in raw_keys:
        if not isinstance(raw, dict):
            continue
        if PRIVATE_MEMBERS & set(raw):  # an identity provider that publishes private keys is broken
            raise KeySourceUnavailable("the JWKS contains private key material")
        if raw.get("kty") != "RSA" or raw.get("use", "sig") != "sig" or raw.get("alg", "RS256") != "RS256":
            continue
        kid = raw.get("kid")
        if not isinstance(kid, str) or not kid or kid in keys:
            continue
        try:
            keys[kid] = jwt.PyJWK(raw, algorithm="RS256").key
        except Exception:  # a malformed modulus or exponent: skip that key
            continue
    if not keys:
        raise KeySourceUnavailable("the JWKS has no usable RS256 signing key")
    return keys
