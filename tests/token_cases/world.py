"""The catalog's section 0 bound to one running sandbox: ``World``, loopback traps, outcomes and raw HTTP."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers.sandbox import Sandbox
from helpers.verify import Expectations, TokenRejected

ROOT = Path(__file__).resolve().parents[2]
ADA = "ada@example.com"
QUERY = "{ user { id email } }"

# ---------------------------------------------------------------------------------------------------------
# Section 0 of the catalog: shared construction code
# ---------------------------------------------------------------------------------------------------------
ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def j(x: Any) -> bytes:
    return x if isinstance(x, bytes) else (
        x.encode() if isinstance(x, str) else json.dumps(x, separators=(",", ":")).encode())


DEL = object()


class World:
    """The catalog's section-0 names, bound to one running sandbox and one frozen instant."""

    def __init__(self, box: Sandbox, now: int) -> None:
        self.box = box
        self.ISS = box.idp_url
        self.CID = box.spa_client_id
        self.API_AUD = box.api_audience
        self.NOW = now
        self.KID = box.idp.keys.current.kid
        self.KEY = box.idp.keys.current.private_key
        self.PUB = self.KEY.public_key()
        self.PUB_PEM = self.PUB.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        self.HDR = {"alg": "RS256", "typ": "JWT", "kid": self.KID}
        self.GOOD = self.craft(self.HDR, self.claims())
        self.h, self.p, self.s = self.GOOD.split(".")
        self.jwk_json = jwt.algorithms.RSAAlgorithm.to_jwk(self.PUB)
        self.attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ATTACKER.public_key())) | {"kid": self.KID}
        self._trap: Trap | None = None
        self.cleanups: list[Callable[[], None]] = []

    def claims(self, **over: Any) -> dict[str, Any]:
        c = {"iss": self.ISS, "sub": "auth0|user-1", "aud": self.CID, "iat": self.NOW - 10, "exp": self.NOW + 3600,
             "nonce": "n-123", "email": ADA, "email_verified": True}
        for k, v in over.items():
            c.pop(k, None) if v is DEL else c.__setitem__(k, v)
        return c

    def raw_claims(self, **raw: str) -> str:
        """The claims as JSON text with some values written verbatim (``1e400``, ``NaN``...)."""
        text = json.dumps(self.claims(**{k: f"@@{k}@@" for k in raw}), separators=(",", ":"))
        for k, v in raw.items():
            text = text.replace(f'"@@{k}@@"', v)
        return text

    def craft(self, header: Any, payload: Any, sig: str | None = None, signer: Any = "rs256", key: Any = None) -> str:
        """header/payload: dict (compact JSON) or raw str/bytes used verbatim (catalog section 0)."""
        key = self.KEY if key is None else key
        h, p = b64u(j(header)), b64u(j(payload))
        si = f"{h}.{p}".encode()
        if sig is None:
            if signer == "rs256":
                sig = b64u(key.sign(si, padding.PKCS1v15(), hashes.SHA256()))
            elif signer == "rs512":
                sig = b64u(key.sign(si, padding.PKCS1v15(), hashes.SHA512()))
            elif signer == "ps256":
                sig = b64u(key.sign(si, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()))
            elif signer == "none":
                sig = ""
            else:  # signer = ("hs256", secret_bytes)
                sig = b64u(hmac.new(signer[1], si, hashlib.sha256).digest())
        return f"{h}.{p}.{sig}"

    # --- what the API verifies with: its expectations and its JWKS cache for the sandbox issuer
    def api_expectations(self, **change: Any) -> Expectations:
        base = dict(issuer=self.ISS, audience=(self.CID, self.box.web_client_id), token_use="id",
                    leeway=self.box.api.settings.token_leeway)
        return Expectations(**{**base, **change})

    def api_keys(self, kid: str | None) -> Any:
        return self.box.api.authenticator.jwks_cache(self.ISS).key_for(kid)

    def any_kid(self, public_key: Any) -> Callable[[str | None], Any]:
        """A static-key lookup that ignores ``kid`` (catalog HDR-04a)."""
        return lambda kid: public_key

    @property
    def trap_url(self) -> str:
        """An attacker URL on loopback that records any connection (jku, x5u, foreign issuers)."""
        if self._trap is None:
            self._trap = Trap()
        return self._trap.url

    def trap_hits(self) -> int:
        return 0 if self._trap is None else self._trap.hits()

    def close(self) -> None:
        if self._trap is not None:
            self._trap.close()
        for cleanup in self.cleanups:
            cleanup()


class Trap:
    """A listening socket that is never answered: any connection to it is an outbound fetch."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self._hits = 0

    def hits(self) -> int:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, OSError):
                return self._hits
            conn.close()
            self._hits += 1

    def close(self) -> None:
        self.sock.close()


class Serve:
    """A one-route loopback HTTP server answering every GET with a fixed body (a broken JWKS endpoint)."""

    def __init__(self, body: bytes, content_type: str) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------------------
# Outcomes and HTTP
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    kind: str  # "http" | "verdict" | "static"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    token: str | bytes | None = None
    elapsed: float = 0.0
    claims: dict[str, Any] | None = None
    rejected: TokenRejected | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(w: World, headers: list[tuple[str, str | bytes]], body: bytes | None = None, method: str = "POST",
                query: str = "", path: str | None = None, url: str | None = None, token: str | None = None) -> Outcome:
    """One HTTP/1.1 request written byte for byte on a socket, so nothing merges or trims our headers."""
    parts = urlsplit(url or w.box.api_url)
    target = (path if path is not None else parts.path) + (("?" + query) if query else "")
    if body is None:
        body = json.dumps({"query": QUERY}).encode()
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode(), b"Connection: close"]
    if method in ("POST", "PUT") and not any(n.lower() == "content-type" for n, _ in headers):
        lines.append(b"Content-Type: application/json")
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}".encode())
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        data = response.read()
        return Outcome("http", response.status, {k.lower(): v for k, v in response.getheaders()}, data, token,
                       time.monotonic() - started)


