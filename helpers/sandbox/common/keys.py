"""The identity provider's RSA signing keys: sign with the current key, publish current and next."""
from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.utils import base64url_encode

ALGORITHM = "RS256"
KEY_SIZE = 2048


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair and its key id (the RFC 7638 thumbprint, as a real JWKS would use)."""

    kid: str
    private_key: RSAPrivateKey

    @classmethod
    def generate(cls) -> "SigningKey":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        return cls(kid=_thumbprint(private_key.public_key()), private_key=private_key)

    @property
    def public_key(self) -> RSAPublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK: only ``kty, use, alg, kid, n, e`` (never private members)."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key))
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self.kid, "n": jwk["n"], "e": jwk["e"]}


def _generate_soon(count: int = 1) -> "list[Future[SigningKey]]":
    """``count`` new keys, made one after the other on a daemon thread. RSA key generation (tens of
    milliseconds, sometimes a few hundred) runs in OpenSSL without holding the GIL, so the sandbox gets on
    with starting its servers meanwhile; whatever needs a key first (a token, the JWKS) waits for it."""
    futures: list[Future[SigningKey]] = [Future() for _ in range(count)]

    def generate() -> None:
        for future in futures:
            try:
                future.set_result(SigningKey.generate())
            except BaseException as exc:  # handed to whoever waits for the key
                future.set_exception(exc)

    threading.Thread(target=generate, name="sandbox-keygen", daemon=True).start()
    return futures


def _thumbprint(public_key: RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


class KeyRing:
    """Signing keys in Auth0's rotation model: previous (still published), current, next.

    ``rotate()`` promotes *next* to *current*, keeps the old current as *previous* so tokens
    it signed stay verifiable, and creates a new *next*. ``revoke_previous()`` drops it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._previous: Future[SigningKey] | None = None
        self._current, self._next = _generate_soon(2)  # made in the background (see _generate_soon)

    @property
    def current(self) -> SigningKey:
        return self._current.result()

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        """A compact RS256 JWS over ``claims`` with the current key's ``kid``."""
        key = self._current.result()
        header = {"typ": "JWT", **(headers or {}), "kid": key.kid}
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=header)

    def public_key(self, kid: str) -> RSAPublicKey:
        """The published public key with this ``kid``; ``KeyError`` when there is none."""
        for key in self._published():
            if key.kid == kid:
                return key.public_key
        raise KeyError(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON Web Key Set served at ``/.well-known/jwks.json``."""
        return {"keys": [key.public_jwk() for key in self._published()]}

    def rotate(self) -> str:
        """Start signing with the next key; return the new current ``kid``."""
        with self._lock:
            self._previous, self._current, self._next = self._current, self._next, _generate_soon()[0]
            current = self._current
        return current.result().kid

    def revoke_previous(self) -> None:
        """Stop publishing the previous key: tokens it signed no longer verify."""
        with self._lock:
            self._previous = None

    def _published(self) -> list[SigningKey]:
        with self._lock:
            published = [k for k in (self._current, self._next, self._previous) if k is not None]
        return [k.result() for k in published]
