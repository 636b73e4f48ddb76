"""The JWT security catalog (shared/reference/jwt-security-cases.md §1.1-1.5) against the sandbox GraphQL API.

One table, ``CASES``: each record names a catalog case (``SIG-02``, or ``CLM-03-C04`` for a sub-variant),
says in one line what it tries, how to send it, and what the answer must be. One parametrized test runs it.

How a case is sent:

- ``bearer(build)``: ``POST api_url`` with ``Authorization: Bearer <build(w)>`` over a raw socket;
- ``auth(build)``: the same, with the whole ``Authorization`` value(s) chosen by the case (odd bytes, two headers);
- ``custom(send)``: a request of the case's own making (query string, body token, GET, CORS preflight);
- ``verifier(build, ...)``: ``helpers.verify.verify_token`` called directly, for what the API's fixed
  configuration cannot produce (a misconfigured verifier, a single-key JWKS, ``None``/``bytes`` tokens);
- ``static(check)``: a check on the project's code or keys.

Tokens are built by hand with base64url exactly as in the catalog's section 0 (``World.craft``), never with
``jwt.encode``. ``World`` binds the catalog's names (ISS, CID, KID, KEY, NOW, GOOD, h, p, s...) to the sandbox:
ISS is the sandbox issuer, KEY its current signing key, NOW the sandbox clock, frozen for each case.

Every HTTP answer is also held to TRN-13 (no ``Traceback``, no echo of the token or of attacker-chosen
header text, no PEM) and TRN-14 (never a 5xx); every verifier verdict must be a ``TokenRejected`` with a
catalogued code, never another exception.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from helpers.jwks import JwksCache
from helpers.sandbox import Sandbox, launch_sandbox
from helpers.verify import REASONS, Expectations, TokenRejected, verify_token

ROOT = Path(__file__).resolve().parents[1]
ADA = "ada@example.com"
QUERY = "{ user { id email } }"

# ---------------------------------------------------------------------------------------------------------
# Section 0 of the catalog: shared construction code
# ---------------------------------------------------------------------------------------------------------
ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
WEAK_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # SIG-19
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # "r = s = n" (SIG-17)
B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


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
# Expected answers
# ---------------------------------------------------------------------------------------------------------
class Answer:
    def check(self, o: Outcome, w: World) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__


def _error(o: Outcome, status: int = 200) -> dict[str, Any]:
    assert o.kind == "http", "expected an HTTP answer"
    assert o.status == status, (o.status, o.body[:300])
    body = o.json
    assert body["data"] is None and len(body["errors"]) == 1, body
    return body["errors"][0]


class Accepted(Answer):
    """HTTP 200 and the seeded user: the token was verified and mapped to Ada."""

    def check(self, o, w):
        assert o.kind == "http" and o.status == 200, (o.status, o.body[:300])
        user = o.json["data"]["user"]
        assert o.json == {"data": {"user": {"id": user["id"], "email": ADA}}} and user["id"], o.json


class Rejected(Answer):
    """HTTP 200, InvalidTokenError, details.token = the verifier's fixed sentence for ``code``.

    ``code`` may depend on the world (a construction whose verdict depends on the key's bytes).
    """

    def __init__(self, code: str | Callable[[World], str]) -> None:
        assert callable(code) or code in REASONS
        self.code = code

    def check(self, o, w):
        code = self.code(w) if callable(self.code) else self.code
        error = _error(o)
        assert error == {"message": "Invalid token", "locations": error.get("locations"), "path": ["user"],
                         "code": "InvalidTokenError", "details": {"token": REASONS[code]}}, error
        assert error["locations"], error

    def __repr__(self):
        return f"Rejected({self.code})"


class InvalidToken(Answer):
    """HTTP 200, InvalidTokenError with a fixed sandbox sentence (not a verifier code)."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence

    def check(self, o, w):
        error = _error(o)
        assert (error["code"], error["message"], error["details"], error["path"]) == \
               ("InvalidTokenError", "Invalid token", {"token": self.sentence}, ["user"]), error


class UnknownIssuer(InvalidToken):
    """No profile trusts the issuer: InvalidTokenError, and no JWKS fetch for that issuer."""

    def __init__(self) -> None:
        super().__init__("The token's issuer is not the domain of any Authentication Profile of this workspace.")

    def check(self, o, w):
        super().check(o, w)
        assert set(w.box.api.authenticator.caches()) <= {w.ISS}, "a JWKS cache was made for a foreign issuer"


class Expired(Answer):
    def check(self, o, w):
        error = _error(o)
        assert (error["code"], error["message"], error["details"]) == \
               ("TokenExpiredError", "Token expired", {"token": "jwt expired"}), error


class BadAuthHeader(Answer):
    """HTTP 400, InvalidTokenError "Invalid authorization header" (duplicate headers, junk after the token...)."""

    def check(self, o, w):
        error = _error(o, status=400)
        assert (error["code"], error["message"]) == ("InvalidTokenError", "Invalid authorization header"), error


class Guest(Answer):
    """No credentials read: the Guest role, ``user`` is null."""

    def check(self, o, w):
        assert (o.status, o.json) == (200, {"data": {"user": None}}), (o.status, o.body[:300])


class HttpError(Answer):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message

    def check(self, o, w):
        error = _error(o, status=self.status)
        assert (error["code"], error["message"]) == (self.code, self.message), error

    def __repr__(self):
        return f"HttpError({self.status}, {self.code})"


class NotAda(Answer):
    """Validly signed, yet the API must not hand out Ada's identity (CLM-28)."""

    def check(self, o, w):
        assert o.kind == "http" and o.status == 200, (o.status, o.body[:300])
        data = o.json.get("data")
        assert not (data and data.get("user")), f"the API linked the token to {data['user']}"


class Preflight(Answer):
    def check(self, o, w):
        allowed = o.headers.get("access-control-allow-origin")
        assert o.status == 200 and allowed in ("*", "http://localhost:3000"), o.headers  # an origin the seed allows
        assert "authorization" in o.headers.get("access-control-allow-headers", "").lower(), o.headers


class ServerRefuses(Answer):
    """Bytes HTTP itself forbids: the HTTP server answers 400 before the app runs (never a 5xx)."""

    def check(self, o, w):
        assert o.kind == "http" and o.status == 400, (o.status, o.body[:300])


class Verdict(Answer):
    """``verify_token`` raised TokenRejected(code) with its fixed sentence."""

    def __init__(self, code: str) -> None:
        assert code in REASONS
        self.code = code

    def check(self, o, w):
        assert o.kind == "verdict" and o.rejected is not None, f"accepted: {o.claims}"
        assert (o.rejected.code, str(o.rejected)) == (self.code, REASONS[self.code]), repr(o.rejected)

    def __repr__(self):
        return f"Verdict({self.code})"


class Verified(Answer):
    """``verify_token`` returned the claims (optionally checked by ``test``)."""

    def __init__(self, test: Callable[[dict[str, Any]], bool] = lambda c: True) -> None:
        self.test = test

    def check(self, o, w):
        assert o.kind == "verdict" and o.rejected is None, repr(o.rejected)
        assert self.test(o.claims), o.claims


class Holds(Answer):
    def check(self, o, w):
        assert o.kind == "static" and o.problems == [], o.problems


ACCEPTED, EXPIRED, GUEST, UNKNOWN_ISSUER = Accepted(), Expired(), Guest(), UnknownIssuer()
BAD_AUTH_HEADER = BadAuthHeader()
WRONG_SCHEME = InvalidToken("The Authorization header must read: Bearer <token>.")
NOT_A_TOKEN = InvalidToken("The bearer value is neither a valid ID token nor an API token of this workspace.")


def rejected(code: str | Callable[[World], str]) -> Rejected:
    return Rejected(code)


def verdict(code: str) -> Verdict:
    return Verdict(code)


# ---------------------------------------------------------------------------------------------------------
# Case record
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    intent: str
    send: Callable[[World], Outcome]
    expect: Answer
    leaks: tuple[str, ...] = ()  # attacker-chosen text the answer must not echo (TRN-13)
    verifier_code: str | None = None  # the code the verifier itself gives, when the API answers before it
    box: str = "shared"  # "shared" | "leeway" (token_leeway=60) | "strict" (require_email_verified) | "private"
    max_seconds: float | None = None


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


def es256(w: World, r: int, s: int, kid: bool = False) -> str:
    header = {"alg": "ES256", "typ": "JWT", **({"kid": w.KID} if kid else {})}
    return w.craft(header, w.claims(), sig=b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big")))


def misconfigured(*algorithms: str) -> Callable[[World], Expectations]:
    return lambda w: w.api_expectations(algorithms=algorithms)


def pem_key(w: World) -> Callable[[str | None], Any]:
    return w.any_kid(w.PUB_PEM.decode())


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


def truncated_signature_code(w: World) -> str:
    """SIG-05: s[:-4] still decodes when its last character happens to be canonical (then the signature is
    simply wrong); otherwise PyJWT's strict base64url refuses it. Which one depends on the key's bytes."""
    return "bad_signature" if canonical(w.s[:-4]) else "malformed"


def jwks_served(body: bytes, content_type: str) -> Callable[[World], Callable[[str | None], Any]]:
    """A real JwksCache fetching from a loopback endpoint that answers ``body``."""
    def keys(w: World) -> Callable[[str | None], Any]:
        server = Serve(body, content_type)
        w.cleanups.append(server.close)
        return JwksCache(server.url, timeout=2).key_for
    return keys


def single_key_jwks(w: World) -> Callable[[str | None], Any]:
    """HDR-05: the issuer's JWKS publishes exactly one key (the IdP's current one)."""
    return jwks_served(json.dumps({"keys": [w.box.idp.keys.current.public_jwk()]}).encode(), "application/json")(w)


html_jwks = jwks_served(b"<html><body>502 Bad Gateway</body></html>", "text/html")  # JWKS-05, for TRN-14


def replayed_callback(w: World) -> str:
    """CLM-27: the callback's ID token is accepted once; the client then drops its nonce and starts afresh."""
    token = signed(w)
    verify_token(token, w.api_keys, w.api_expectations(nonce="n-123"), now=w.NOW)  # first use: fine
    return token  # the second use is checked against the client's next login's nonce (below)


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def header_text(w: World, extra: str) -> str:
    return '{"alg":"RS256","typ":"JWT","kid":"%s",%s}' % (w.KID, extra)


def _preflight(w: World) -> Outcome:
    return raw_request(w, [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "POST"),
                           ("Access-Control-Request-Headers", "authorization,content-type")],
                       method="OPTIONS", body=b"")


def _form_token(w: World) -> Outcome:
    body = f"access_token={w.GOOD}&query={QUERY}".encode()
    return raw_request(w, [("Content-Type", "application/x-www-form-urlencoded")], body=body, token=w.GOOD)


def _unknown_kids(w: World) -> Outcome:
    """HDR-04(b): warm the API's JWKS cache, then send unknown kids; the cooldown allows one refetch."""
    assert raw_request(w, [("Authorization", "Bearer " + w.GOOD)]).status == 200
    cache = w.box.api.authenticator.jwks_cache(w.ISS)
    before = cache.stats().fetches
    for n in range(5):
        token = signed(w, {**w.HDR, "kid": f"nope-unknown-kid-{n}"})
        outcome = raw_request(w, [("Authorization", "Bearer " + token)], token=token)
        Rejected("bad_signature").check(outcome, w)
    assert cache.stats().fetches - before <= 1, "an unknown kid refetched the JWKS more than once per cooldown"
    return outcome


def _private_jwks_api(w: World) -> Outcome:
    """TRN-14 / JWKS-07 through the API: the IdP (wrongly) publishes private key members."""
    public = w.box.idp.keys.current.public_jwk()
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(w.KEY))
    w.box.idp.keys.jwks = lambda: {"keys": [public | {k: private[k] for k in ("d", "p", "q", "dp", "dq", "qi")}]}
    token = signed(w)
    return raw_request(w, [("Authorization", "Bearer " + token)], token=token)


class KeyUnavailableApi(Answer):
    """The key source is broken: a fixed ExternalServiceError (the API's A-503), never a 200 user, never a 500."""

    def check(self, o, w):
        error = _error(o)
        expected = ("ExternalServiceError", {"token": REASONS["key_unavailable"]})
        assert (error["code"], error["details"]) == expected, error


def _crashers(w: World) -> Outcome:
    """TRN-14: every input that crashed some PyJWT version, sent in a row; the worst answer is kept."""
    tokens = [
        w.craft(header_text(w, '"x":' + nest(2000)), w.claims()),           # HDR-17 RecursionError (<= 2.12)
        w.craft(w.HDR, w.raw_claims(exp="null")),                           # CLM-03 TypeError (<= 2.12)
        w.craft(w.HDR, w.raw_claims(exp="1e400")),                          # CLM-03 OverflowError (<= 2.12)
        w.craft(w.HDR, w.claims(iss=[w.ISS])),                              # CLM-13 TypeError (2.10)
        w.craft({"alg": "HS256", "typ": "JWT", "kid": w.KID}, w.claims(), signer=("hs256", w.PUB_PEM)),  # SIG-12
        w.craft(w.HDR, b'{"sub":"\xff\xfe"}'),                               # ENC-06 invalid UTF-8
        w.craft(header_text(w, '"x":' + "1" * 5000), w.claims()),           # HDR-17 digit limit
    ]
    worst = None
    for token in tokens:
        o = raw_request(w, [("Authorization", "Bearer " + token)], token=token)
        assert o.status is not None and o.status < 500, (o.status, o.body[:300])
        body = o.json
        assert body["data"] is None and body["errors"][0]["code"] == "InvalidTokenError", body
        assert token not in o.body.decode("latin-1") and "Traceback" not in o.body.decode("latin-1")
        worst = o
    return worst


def _scan_helpers(w: World) -> list[str]:
    """SIG-20: no code under helpers/ skips signature checks, or takes the algorithm from the token.

    The one documented exception: ``_unverified_issuer`` in helpers/sandbox/api/auth.py reads ``iss``
    only to choose which Authentication Profile's keys verify the token.
    """
    problems = []
    allowed = {("helpers/sandbox/api/auth.py", "_unverified_issuer")}
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        functions = [(m.start(), m.group(1)) for m in re.finditer(r"^\s*def (\w+)", text, re.M)]
        for m in re.finditer(r"verify_signature[\"']?\s*[:=]\s*False", text):
            owner = next((name for start, name in reversed(functions) if start < m.start()), None)
            if (rel, owner) not in allowed:
                problems.append(f"{rel}: verify_signature False in {owner}()")
        for m in re.finditer(r"algorithms\s*=\s*\[?[^\]\n]*get_unverified_header", text):
            problems.append(f"{rel}: algorithms taken from the token header")
        if "jwt.decode(" in text and rel not in ("helpers/verify.py", "helpers/sandbox/api/auth.py"):
            problems.append(f"{rel}: jwt.decode outside the one verifier")
    auth = (ROOT / "helpers/sandbox/api/auth.py").read_text(encoding="utf-8")
    uses = re.findall(r"_unverified_issuer\(", auth)
    if len(uses) != 2:  # its definition and its one call, in verify_id_token
        problems.append(f"api/auth.py: _unverified_issuer used {len(uses) - 1} times")
    call = re.search(r"issuer = _unverified_issuer\(token\)\n\s*profiles = \[p for p in db\.auth_profiles\(\) "
                     r"if p\.issuer == issuer\]", auth)
    if call is None:
        problems.append("api/auth.py: the unverified issuer is used for more than choosing the profile")
    return problems


def _claims_come_from_the_verifier(w: World) -> list[str]:
    """CLM-34: the caller's claims in the GraphQL context are the verifier's output, nothing else."""
    auth = (ROOT / "helpers/sandbox/api/auth.py").read_text(encoding="utf-8")
    problems = []
    if "claims = verify_token(" not in auth:
        problems.append("verify_id_token does not take its claims from verify_token")
    if re.search(r"Caller\([^)]*claims=(?!claims)", auth):
        problems.append("a Caller is built with claims that are not the verified ones")
    return problems


def _idp_keys_are_strong(w: World) -> list[str]:
    """SIG-18/19 on the IdP side: only RS256 with RSA keys of at least 2048 bits, never HS256."""
    problems = []
    for jwk in w.box.idp.keys.jwks()["keys"]:
        key = jwt.PyJWK(jwk).key
        if jwk.get("alg") != "RS256" or key.key_size < 2048:
            problems.append(f"weak or non-RS256 key {jwk.get('kid')}")
    discovery = json.loads(raw_request(w, [], method="GET", body=b"", url=w.ISS + ".well-known/openid-configuration",
                                       path="/.well-known/openid-configuration").body)
    if discovery.get("id_token_signing_alg_values_supported") != ["RS256"]:
        problems.append(f"discovery signs ID tokens with {discovery.get('id_token_signing_alg_values_supported')}")
    return problems


TEN_YEARS = 10 * 365 * 86400

# ---------------------------------------------------------------------------------------------------------
# THE TABLE
# ---------------------------------------------------------------------------------------------------------
CASES: list[Case] = [
    # ---- 1.1 Signature and algorithm (SIG) --------------------------------------------------------------
    Case("SIG-01", "control: the valid token GOOD reaches the resolver", bearer(lambda w: w.GOOD), ACCEPTED),
    Case("SIG-02", "payload tampered (sub=admin), original signature kept",
         bearer(lambda w: f"{w.h}.{b64u(j(w.claims(sub='admin')))}.{w.s}"), rejected("bad_signature")),
    Case("SIG-03", "signature stripped, trailing dot kept (null signature, CVE-2020-28042)",
         bearer(lambda w: f"{w.h}.{w.p}."), rejected("bad_signature")),
    Case("SIG-04", "signature segment missing: two parts are not a JWT (nor an API token)",
         bearer(lambda w: f"{w.h}.{w.p}"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("SIG-05", "signature truncated by 4 characters", bearer(lambda w: f"{w.h}.{w.p}.{w.s[:-4]}"),
         rejected(truncated_signature_code)),
    Case("SIG-06-S05", "all-zero signature of 1 byte", bearer(lambda w: f"{w.h}.{w.p}.{b64u(bytes(1))}"),
         rejected("bad_signature")),
    Case("SIG-06-S06", "all-zero signature of 256 bytes", bearer(lambda w: f"{w.h}.{w.p}.{b64u(bytes(256))}"),
         rejected("bad_signature")),
    Case("SIG-07", "signed by the attacker's RSA key under the IdP's kid", bearer(lambda w: by_attacker(w)),
         rejected("bad_signature")),
    *[Case(f"SIG-08-{alg}", f'alg "{alg}" with an empty signature',
           bearer(lambda w, a=alg: w.craft({"alg": a, "typ": "JWT"}, w.claims(), signer="none")),
           rejected("alg_not_allowed")) for alg in ("none", "None", "NONE", "nOnE")],
    Case("SIG-09", 'alg none against a verifier misconfigured with algorithms=("RS256","none")',
         verifier(lambda w: w.craft({"alg": "none", "typ": "JWT"}, w.claims(), signer="none"),
                  misconfigured("RS256", "none"), lambda w: w.any_kid(w.PUB)), verdict("alg_not_allowed")),
    Case("SIG-10", "RS256->HS256 confusion: HMAC keyed with the public PEM",
         bearer(lambda w: hs256(w, w.PUB_PEM)), rejected("alg_not_allowed")),
    Case("SIG-10-pkcs1", "HS256 confusion, key recovered without an exposed PEM (PKCS#1 encoding)",
         bearer(lambda w: hs256(w, w.PUB.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
                                {"alg": "HS256", "typ": "JWT", "kid": w.KID})), rejected("alg_not_allowed")),
    Case("SIG-11", "HS256/PEM token against a verifier allowing HS256, key given as a PEM string",
         verifier(lambda w: hs256(w, w.PUB_PEM), misconfigured("RS256", "HS256"), pem_key),
         verdict("alg_not_allowed")),
    Case("SIG-12", "the same, key given as an RSAPublicKey object (PyJWT raises TypeError)",
         verifier(lambda w: hs256(w, w.PUB_PEM), misconfigured("RS256", "HS256"), lambda w: w.any_kid(w.PUB)),
         verdict("alg_not_allowed")),
    Case("SIG-13", "HS256 keyed with the IdP's JWK JSON text, misconfigured verifier keyed with that text",
         verifier(lambda w: hs256(w, w.jwk_json.encode()), misconfigured("RS256", "HS256"),
                  lambda w: w.any_kid(w.jwk_json)), verdict("alg_not_allowed")),
    Case("SIG-14-S14", "HS256 with a blank secret, at the API", bearer(lambda w: hs256(w, b"")),
         rejected("alg_not_allowed")),
    Case("SIG-14-S15", 'HS256 blank secret against algorithms=("HS256",) and key ""',
         verifier(lambda w: hs256(w, b""), misconfigured("HS256"), lambda w: w.any_kid("")),
         verdict("alg_not_allowed")),
    Case("SIG-15-S16", "a valid RS512 token from the IdP's own key",
         bearer(lambda w: w.craft({**w.HDR, "alg": "RS512"}, w.claims(), signer="rs512")), rejected("alg_not_allowed")),
    Case("SIG-15-S17", "a valid PS256 token from the IdP's own key",
         bearer(lambda w: w.craft({**w.HDR, "alg": "PS256"}, w.claims(), signer="ps256")), rejected("alg_not_allowed")),
    Case("SIG-16", 'alg "rs256" (algorithm names are case-sensitive), otherwise valid',
         bearer(lambda w: w.craft({**w.HDR, "alg": "rs256"}, w.claims())), rejected("alg_not_allowed")),
    Case("SIG-17-S19", "psychic signature ES256 r=s=0 against the RS256 API",
         bearer(lambda w: es256(w, 0, 0, kid=True)), rejected("alg_not_allowed")),
    Case("SIG-17-S19n", "psychic signature ES256 r=s=n against the RS256 API",
         bearer(lambda w: es256(w, P256_ORDER, P256_ORDER, kid=True)), rejected("alg_not_allowed")),
    Case("SIG-17-S20", "psychic signature r=s=0 against an ES256 verifier with an EC key",
         verifier(lambda w: es256(w, 0, 0), misconfigured("ES256"), lambda w: w.any_kid(EC_KEY.public_key())),
         verdict("bad_signature")),
    Case("SIG-17-S21", "psychic signature r=s=n against an ES256 verifier with an EC key",
         verifier(lambda w: es256(w, P256_ORDER, P256_ORDER), misconfigured("ES256"),
                  lambda w: w.any_kid(EC_KEY.public_key())), verdict("bad_signature")),
    Case("SIG-18", "HS256 with a guessable secret ('secret'): the API never accepts HMAC at all",
         bearer(lambda w: hs256(w, b"secret", {"alg": "HS256", "typ": "JWT", "kid": w.KID})),
         rejected("alg_not_allowed")),
    Case("SIG-18-idp", "the IdP signs ID tokens only with RS256 and RSA keys of >= 2048 bits",
         static(_idp_keys_are_strong), Holds()),
    Case("SIG-19", "token signed with an RSA-1024 key that the key source returns: key length enforced",
         verifier(lambda w: w.craft(w.HDR, w.claims(), key=WEAK_KEY), keys=lambda w: w.any_kid(WEAK_KEY.public_key())),
         verdict("bad_signature")),
    Case("SIG-20-S22", "caller bug 'algorithms omitted': an empty allow-list accepts nothing",
         verifier(lambda w: w.GOOD, lambda w: w.api_expectations(algorithms=())), verdict("alg_not_allowed")),
    Case("SIG-20-S23", "static: no verify_signature=False / alg-from-header outside _unverified_issuer",
         static(_scan_helpers), Holds()),

    # ---- 1.2 Header (HDR) --------------------------------------------------------------------------------
    Case("HDR-01", "alg missing, otherwise a valid RS256 token",
         bearer(lambda w: signed(w, {"typ": "JWT", "kid": w.KID})), rejected("alg_not_allowed")),
    Case("HDR-02-H02", "alg null", bearer(lambda w: signed(w, {**w.HDR, "alg": None})), rejected("alg_not_allowed")),
    Case("HDR-02-H03", 'alg ""', bearer(lambda w: signed(w, {**w.HDR, "alg": ""})), rejected("alg_not_allowed")),
    Case("HDR-02-H04", 'alg ["RS256"] (not a string)', bearer(lambda w: signed(w, {**w.HDR, "alg": ["RS256"]})),
         rejected("alg_not_allowed")),
    # HDR-03, HDR-12, TRN-13-crit fail today: api/auth.py _unverified_issuer answers "malformed" for any header
    # PyJWT refuses, before the verifier can say bad_header.
    Case("HDR-03-H07", "kid 7 (not a string)", bearer(lambda w: signed(w, {**w.HDR, "kid": 7})),
         rejected("bad_header")),
    Case("HDR-03-H08", "kid null", bearer(lambda w: signed(w, {**w.HDR, "kid": None})), rejected("bad_header")),
    Case("HDR-04-H05", "unknown kid 'nope' against a static-key verifier: kid ignored, signature verifies",
         verifier(lambda w: signed(w, {**w.HDR, "kid": "nope"}), keys=lambda w: w.any_kid(w.PUB)),
         Verified(lambda c: c["sub"] == "auth0|user-1")),
    Case("HDR-04-jwks", "five unknown kids at the API (JWKS verifier): at most one JWKS refetch, each a 401",
         custom(_unknown_kids), rejected("bad_signature"), leaks=("nope-unknown-kid",)),
    Case("HDR-05", "kid absent and the issuer's JWKS holds ONE key: that key verifies (OIDC kid-absent-single)",
         verifier(lambda w: signed(w, {"alg": "RS256", "typ": "JWT"}), keys=single_key_jwks), Verified()),
    Case("HDR-06", "kid absent and the sandbox JWKS publishes two keys (current, next): reject",
         bearer(lambda w: signed(w, {"alg": "RS256", "typ": "JWT"})), rejected("bad_signature")),
    Case("HDR-07-H09", "kid path traversal ../../dev/null with HS256 and an empty key",
         bearer(lambda w: w.craft({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}, w.claims(),
                                  signer=("hs256", b""))), rejected("alg_not_allowed"), leaks=("../../",)),
    Case("HDR-07-H10", "kid SQL injection with HS256 and key '1'",
         bearer(lambda w: w.craft({"alg": "HS256", "typ": "JWT", "kid": "x' UNION SELECT '1';--"}, w.claims(),
                                  signer=("hs256", b"1"))), rejected("alg_not_allowed"), leaks=("UNION SELECT",)),
    Case("HDR-07-sleep", "kid '|sleep 10' on an IdP-signed token: a dictionary key, never a shell argument",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "|sleep 10"})), rejected("bad_signature"), leaks=("sleep 10",),
         max_seconds=5),
    Case("HDR-07-path", "kid '/invalid_path'", bearer(lambda w: signed(w, {**w.HDR, "kid": "/invalid_path"})),
         rejected("bad_signature"), leaks=("/invalid_path",)),
    Case("HDR-07-empty", 'kid ""', bearer(lambda w: signed(w, {**w.HDR, "kid": ""})), rejected("bad_signature")),
    Case("HDR-08", "embedded jwk header with the attacker's key, signed by the attacker",
         bearer(lambda w: by_attacker(w, {**w.HDR, "jwk": w.attacker_jwk})), rejected("bad_signature")),
    Case("HDR-09", "jku pointing at an attacker JWKS, signed by the attacker: no fetch of the jku",
         bearer(lambda w: by_attacker(w, {**w.HDR, "jku": w.trap_url + "jwks.json"})), rejected("bad_signature"),
         leaks=("jwks.json",)),
    Case("HDR-10-H13", "x5u pointing at an attacker certificate, signed by the attacker: no fetch",
         bearer(lambda w: by_attacker(w, {**w.HDR, "x5u": w.trap_url + "cert.pem"})), rejected("bad_signature"),
         leaks=("cert.pem",)),
    Case("HDR-10-H14", "bogus x5c chain, signed by the attacker",
         bearer(lambda w: by_attacker(w, {**w.HDR, "x5c": [base64.b64encode(b"not a certificate").decode()]})),
         rejected("bad_signature")),
    Case("HDR-11", "IdP-signed token carrying jku/jwk/x5u noise: accepted, nothing dereferenced",
         bearer(lambda w: signed(w, {**w.HDR, "jku": w.trap_url + "jwks.json", "x5u": w.trap_url + "c.pem",
                                     "jwk": w.attacker_jwk})), ACCEPTED),
    Case("HDR-12-H16", 'crit ["exp"] (unknown extension), valid signature',
         bearer(lambda w: signed(w, {**w.HDR, "crit": ["exp"]})), rejected("bad_header")),
    Case("HDR-12-H17", 'crit "b64" (not a list)', bearer(lambda w: signed(w, {**w.HDR, "crit": "b64"})),
         rejected("bad_header")),
    Case("HDR-12-H18", "crit [] (empty)", bearer(lambda w: signed(w, {**w.HDR, "crit": []})), rejected("bad_header")),
    Case("HDR-13-H19", "b64:false without crit, signed over a non-empty payload segment",
         bearer(lambda w: signed(w, {**w.HDR, "b64": False})), rejected("malformed")),
    Case("HDR-13-H20", 'b64:false + crit ["b64"] + a non-empty payload segment',
         bearer(lambda w: signed(w, {**w.HDR, "b64": False, "crit": ["b64"]})), rejected("malformed")),
    Case("HDR-14", 'typ "at+jwt" (an access-token type) where an ID token is expected',
         bearer(lambda w: signed(w, {**w.HDR, "typ": "at+jwt"})), rejected("wrong_token_type")),
    Case("HDR-14-app", 'typ "application/at+jwt"', bearer(lambda w: signed(w, {**w.HDR, "typ": "application/at+jwt"})),
         rejected("wrong_token_type")),
    Case("HDR-15-H22", "header is the JSON array [1,2]", bearer(lambda w: w.craft("[1,2]", w.claims())),
         rejected("malformed")),
    Case("HDR-15-H23", 'header is the JSON string "RS256"', bearer(lambda w: w.craft('"RS256"', w.claims())),
         rejected("malformed")),
    Case("HDR-16-H24", 'duplicate alg: "none" then "RS256", valid RS256 signature: the last value, everywhere',
         bearer(lambda w: w.craft('{"alg":"none","alg":"RS256","typ":"JWT","kid":"%s"}' % w.KID, w.claims())),
         ACCEPTED),
    Case("HDR-16-H25", 'duplicate alg: "RS256" then "none", empty signature',
         bearer(lambda w: w.craft('{"alg":"RS256","alg":"none","typ":"JWT","kid":"%s"}' % w.KID, w.claims(),
                                  signer="none")), rejected("alg_not_allowed")),
    Case("HDR-17-H26", "NaN in the header, valid signature (Python json reads it; accepted consistently)",
         bearer(lambda w: w.craft(header_text(w, '"x":NaN'), w.claims())), ACCEPTED),
    Case("HDR-17-H27", "a 5000-digit integer in the header",
         bearer(lambda w: w.craft(header_text(w, '"x":' + "1" * 5000), w.claims())), rejected("malformed")),
    Case("HDR-17-H28", "2000 nested arrays in the header (RecursionError in json), under 8 KB",
         bearer(lambda w: w.craft(header_text(w, '"x":' + nest(2000)), w.claims())), rejected("malformed")),
    Case("HDR-17-H28-100k", "100 000 nested arrays in the header: too large before any parsing",
         verifier(lambda w: w.craft(header_text(w, '"x":' + nest(100_000)), w.claims())), verdict("too_large")),
    Case("HDR-17-H28-100k-nocap", "100 000 nested arrays with the size cap lifted: still a fixed code",
         verifier(lambda w: w.craft(header_text(w, '"x":' + nest(100_000)), w.claims()),
                  lambda w: w.api_expectations(max_bytes=10**7)), verdict("malformed")),

    # ---- 1.3 Claims (CLM) --------------------------------------------------------------------------------
    Case("CLM-01-C01", "exp 60 s in the past", bearer(lambda w: signed(w, exp=w.NOW - 60)), EXPIRED),
    Case("CLM-01-C02", "exp == now (boundary: expired)", bearer(lambda w: signed(w, exp=w.NOW)), EXPIRED),
    Case("CLM-02", "exp missing", bearer(lambda w: signed(w, exp=DEL)), rejected("missing_claim")),
    Case("CLM-03-C04", 'exp "9999999999" (numeric string)', bearer(lambda w: signed(w, exp="9999999999")),
         rejected("bad_claim_type")),
    Case("CLM-03-C05", 'exp "soon"', bearer(lambda w: signed(w, exp="soon")), rejected("bad_claim_type")),
    Case("CLM-03-C06", "exp null (counts as missing)", bearer(lambda w: signed(w, exp=None)),
         rejected("missing_claim")),
    Case("CLM-03-C07", "exp true", bearer(lambda w: signed(w, exp=True)), rejected("bad_claim_type")),
    Case("CLM-03-C08", "exp 1e30 (float, absurd)", bearer(lambda w: signed(w, exp=1e30)), rejected("bad_claim_type")),
    Case("CLM-03-C09", "exp 1e400 (Infinity)", bearer(lambda w: w.craft(w.HDR, w.raw_claims(exp="1e400"))),
         rejected("bad_claim_type")),
    Case("CLM-03-C10", "exp NaN", bearer(lambda w: w.craft(w.HDR, w.raw_claims(exp="NaN"))),
         rejected("bad_claim_type")),
    Case("CLM-04-C11", "expired 30 s ago, API leeway 60 s: accepted", bearer(lambda w: signed(w, exp=w.NOW - 30)),
         ACCEPTED, box="leeway"),
    Case("CLM-04-beyond", "expired 61 s ago, API leeway 60 s: expired", bearer(lambda w: signed(w, exp=w.NOW - 61)),
         EXPIRED, box="leeway"),
    Case("CLM-05", "nbf 10 minutes in the future", bearer(lambda w: signed(w, nbf=w.NOW + 600)),
         rejected("not_yet_valid")),
    Case("CLM-06", "iat 10 minutes in the future", bearer(lambda w: signed(w, iat=w.NOW + 600)),
         rejected("not_yet_valid")),
    Case("CLM-07", "iat missing", bearer(lambda w: signed(w, iat=DEL)), rejected("missing_claim")),
    Case("CLM-08", 'iat "yesterday"', bearer(lambda w: signed(w, iat="yesterday")), rejected("bad_claim_type")),
    Case("CLM-09-C16", "iat 10 years old with a still-valid exp (lifetime beyond any IdP maximum)",
         bearer(lambda w: signed(w, iat=w.NOW - TEN_YEARS)), rejected("bad_claim_type")),
    Case("CLM-09-long", "exp 10 years after iat (integer)", bearer(lambda w: signed(w, exp=w.NOW + TEN_YEARS)),
         rejected("bad_claim_type")),
    Case("CLM-09-C08", "absurd lifetime exp=1e30", bearer(lambda w: signed(w, exp=1e30)), rejected("bad_claim_type")),
    Case("CLM-10", "iss https://evil-idp.example/: no profile, no JWKS fetch",
         bearer(lambda w: signed(w, iss="https://evil-idp.example/")), UNKNOWN_ISSUER, verifier_code="bad_issuer"),
    Case("CLM-11", "iss missing", bearer(lambda w: signed(w, iss=DEL)), UNKNOWN_ISSUER, verifier_code="missing_claim"),
    Case("CLM-12-C19", "iss a prefix of the issuer ('http://localhost')",
         bearer(lambda w: signed(w, iss=w.ISS.split(":")[0] + ":" + w.ISS.split(":")[1])), UNKNOWN_ISSUER,
         verifier_code="bad_issuer"),
    Case("CLM-12-C20", "iss without the trailing slash (the Auth0 trap)",
         bearer(lambda w: signed(w, iss=w.ISS.rstrip("/"))), UNKNOWN_ISSUER, verifier_code="bad_issuer"),
    Case("CLM-13", "iss [ISS] (a list)", bearer(lambda w: signed(w, iss=[w.ISS])), UNKNOWN_ISSUER,
         verifier_code="bad_issuer"),
    Case("CLM-14-C22", "verifier misconfigured without an issuer (None): trusts no one",
         verifier(lambda w: signed(w, iss="https://evil-idp.example/"), lambda w: w.api_expectations(issuer=None)),
         verdict("bad_issuer")),
    Case("CLM-14-empty", 'verifier misconfigured with issuer ""',
         verifier(lambda w: signed(w, iss=""), lambda w: w.api_expectations(issuer="")), verdict("bad_issuer")),
    Case("CLM-15", "aud another client", bearer(lambda w: signed(w, aud="other-client")), rejected("bad_audience")),
    Case("CLM-16-C24", "aud missing", bearer(lambda w: signed(w, aud=DEL)), rejected("missing_claim")),
    Case("CLM-16-C25", 'aud "" (PyJWT counts an empty aud as missing)', bearer(lambda w: signed(w, aud="")),
         rejected("missing_claim")),
    Case("CLM-17-C26", "aud = the API audience (an access token's audience)",
         bearer(lambda w: signed(w, aud=w.API_AUD)), rejected("bad_audience")),
    Case("CLM-17-at", "an Auth0-shaped access token: aud [api, userinfo], azp, scope",
         bearer(lambda w: signed(w, aud=[w.API_AUD, w.ISS + "userinfo"], azp=w.CID, scope="openid profile email",
                                 nonce=DEL)), rejected("wrong_token_type")),
    Case("CLM-18", "aud [CID, other-client] without azp", bearer(lambda w: signed(w, aud=[w.CID, "other-client"])),
         rejected("bad_audience")),
    Case("CLM-19", "aud [CID, other] with azp other", bearer(lambda w: signed(w, aud=[w.CID, "other"], azp="other")),
         rejected("bad_audience")),
    Case("CLM-20-C30", "aud 5", bearer(lambda w: signed(w, aud=5)), rejected("bad_audience")),
    Case("CLM-20-C31", "aud [CID, 5]", bearer(lambda w: signed(w, aud=[w.CID, 5])), rejected("bad_audience")),
    Case("CLM-21-C32", "verifier misconfigured with an empty audience list while the token has aud",
         verifier(lambda w: signed(w), lambda w: w.api_expectations(audience=())), verdict("bad_audience")),
    Case("CLM-21-empty", 'verifier misconfigured with audience ""',
         verifier(lambda w: signed(w), lambda w: w.api_expectations(audience="")), verdict("bad_audience")),
    Case("CLM-22", "sub missing", bearer(lambda w: signed(w, sub=DEL)), rejected("missing_claim")),
    Case("CLM-23", "sub 42 (not a string)", bearer(lambda w: signed(w, sub=42)), rejected("bad_claim_type")),
    Case("CLM-24-C35", "sub of 256 characters", bearer(lambda w: signed(w, sub="x" * 256)), rejected("bad_claim_type")),
    Case("CLM-24-255", "sub of exactly 255 characters (the limit): accepted",
         bearer(lambda w: signed(w, sub="x" * 255)), ACCEPTED),
    Case("CLM-25", "nonce mismatch at the login callback",
         verifier(lambda w: signed(w, nonce="attacker-nonce"), lambda w: w.api_expectations(nonce="n-123")),
         verdict("bad_nonce")),
    Case("CLM-26", "nonce missing although one was sent",
         verifier(lambda w: signed(w, nonce=DEL), lambda w: w.api_expectations(nonce="n-123")), verdict("bad_nonce")),
    Case("CLM-27", "callback replay: the second submission meets the client's next nonce, not the used one",
         verifier(replayed_callback, lambda w: w.api_expectations(nonce="n-456")), verdict("bad_nonce")),
    # 8base finds the user by email alone (documented); whether it also wants email_verified is unknown, so
    # it is the API setting require_email_verified: off by default (8base's lookup), on in the "strict" box.
    Case("CLM-28", "email_verified false with a victim's email: never Ada's identity when verified emails are required",
         bearer(lambda w: signed(w, email_verified=False, sub="auth0|attacker")), NotAda(), box="strict"),
    Case("CLM-28-default", "by default the API links by email alone, as 8base documents: the risk lesson 07 shows",
         bearer(lambda w: signed(w, email_verified=False, sub="auth0|attacker")), ACCEPTED),
    Case("CLM-29", "jti 5 (not a string)", bearer(lambda w: signed(w, jti=5)), rejected("bad_claim_type")),
    Case("CLM-30", "duplicate sub (victim, attacker), IdP-signed: the last value, consistently",
         bearer(lambda w: w.craft(w.HDR, '{"sub":"victim",' + w.raw_claims()[1:].replace('"sub":"auth0|user-1"',
                                                                                          '"sub":"attacker"'))),
         ACCEPTED),
    Case("CLM-30-verifier", "duplicate sub: the verifier's claims carry the last value",
         verifier(lambda w: w.craft(w.HDR, '{"sub":"victim",' + w.raw_claims()[1:].replace('"sub":"auth0|user-1"',
                                                                                            '"sub":"attacker"'))),
         Verified(lambda c: c["sub"] == "attacker")),
    Case("CLM-31", "wrong at_hash: code flow only, the API holds no access token to bind, so it is ignored",
         bearer(lambda w: signed(w, at_hash="AAAAAAAAAAAAAAAAAAAAAA")), ACCEPTED),
    Case("CLM-32", "auth_time 10 years old: no max_age was sent, so accepted",
         bearer(lambda w: signed(w, auth_time=w.NOW - TEN_YEARS)), ACCEPTED),
    Case("CLM-33", "bidi override and emoji in sub and name: data, accepted, never echoed",
         bearer(lambda w: signed(w, sub="auth0|\u202eevil\U0001F600", name="\u202emallory")), ACCEPTED,
         leaks=("\u202e",)),
    Case("CLM-34", "privileged custom claim added to a signed token: only the verified result counts",
         bearer(lambda w: f"{w.h}.{b64u(j(w.claims(**{'https://example.com/roles': ['Administrator']})))}.{w.s}"),
         rejected("bad_signature")),
    Case("CLM-34-static", "static: the context's claims are the verifier's output",
         static(_claims_come_from_the_verifier), Holds()),

    # ---- 1.4 Encoding and structure (ENC) ----------------------------------------------------------------
    Case("ENC-01-E01", 'empty token after "Bearer "', auth(lambda w: "Bearer "), BAD_AUTH_HEADER),
    Case("ENC-01-E01-verifier", 'the verifier given ""', verifier(lambda w: ""), verdict("malformed")),
    Case("ENC-01-E02", "the verifier given None", verifier(lambda w: None), verdict("malformed")),
    Case("ENC-01-E19", "the verifier given 123", verifier(lambda w: 123), verdict("malformed")),
    Case("ENC-02-E03", 'one segment "abc"', bearer(lambda w: "abc"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("ENC-02-E04", "four segments GOOD + .AAAA", bearer(lambda w: w.GOOD + ".AAAA"), NOT_A_TOKEN,
         verifier_code="malformed"),
    Case("ENC-02-E05", "a five-part JWE (not supported, never decrypted)",
         bearer(lambda w: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), NOT_A_TOKEN, verifier_code="malformed"),
    Case("ENC-03-E06", 'non-base64url header "!!!"', bearer(lambda w: f"!!!.{w.p}.{w.s}"), rejected("malformed")),
    Case("ENC-03-E07", "standard-base64 + and / in the signature",
         bearer(lambda w: f"{w.h}.{w.p}.{w.s.replace('-', '+').replace('_', '/')}" if re.search("[-_]", w.s)
                else f"{w.h}.{w.p}.+/{w.s[2:]}"), rejected("malformed")),
    Case("ENC-04", "non-canonical base64url: an unused low bit of the last signature character flipped",
         bearer(lambda w: f"{w.h}.{w.p}.{noncanonical(w.s)}"), rejected("malformed")),
    Case("ENC-05", "trailing = padding on the signature segment (AWS ALB style): accepted, same bytes",
         bearer(lambda w: f"{w.h}.{w.p}.{padded(w.s)}"), ACCEPTED),
    Case("ENC-05-header", "= padding on the header segment changes the signing input: the signature fails",
         bearer(lambda w: f"{padded(w.h)}.{w.p}.{w.s}"),  # h is 110 characters (the kid is a 43-character thumbprint)
         rejected("bad_signature")),
    Case("ENC-06-E10", "header segment is not JSON", bearer(lambda w: w.craft("not json", w.claims())),
         rejected("malformed")),
    Case("ENC-06-E11", "payload not JSON, validly signed", bearer(lambda w: w.craft(w.HDR, "not json")),
         rejected("malformed")),
    Case("ENC-06-E12", "payload a JSON array, validly signed", bearer(lambda w: w.craft(w.HDR, "[1,2]")),
         rejected("malformed")),
    Case("ENC-06-E13", "payload invalid UTF-8, validly signed", bearer(lambda w: w.craft(w.HDR, b'{"sub":"\xff\xfe"}')),
         rejected("malformed")),
    Case("ENC-07-E14", "trailing newline: the verifier does not strip", verifier(lambda w: w.GOOD + "\n"),
         verdict("malformed")),
    Case("ENC-07-E15", "leading space: the verifier does not strip", verifier(lambda w: " " + w.GOOD),
         verdict("malformed")),
    Case("ENC-07-E16", "non-ASCII é inside the token, at the API",
         auth(lambda w: b"Bearer " + w.GOOD[:20].encode() + b"\xe9" + w.GOOD[20:].encode()), rejected("malformed")),
    Case("ENC-07-E16-verifier", "non-ASCII é inside the token, at the verifier",
         verifier(lambda w: w.GOOD[:20] + "é" + w.GOOD[20:]), verdict("malformed")),
    Case("ENC-07-E17", "NUL byte inside the token", verifier(lambda w: w.GOOD[:20] + "\x00" + w.GOOD[20:]),
         verdict("malformed")),
    Case("ENC-07-E17-api", "NUL byte inside the Authorization header: the HTTP server refuses it (400)",
         auth(lambda w: f"Bearer {w.GOOD[:20]}\x00{w.GOOD[20:]}"), ServerRefuses()),
    Case("ENC-08-E20", "2 MB header, valid signature",
         verifier(lambda w: w.craft(header_text(w, '"x":"%s"' % ("a" * 2**21)), w.claims())), verdict("too_large")),
    Case("ENC-08-E21", "2 MB payload, valid signature", verifier(lambda w: signed(w, x="a" * 2**21)),
         verdict("too_large")),
    *[Case(f"ENC-08-junk-{mb}MB", f"{mb} MB of junk with a bad signature: capped before decoding, fast",
           verifier(lambda w, n=mb: f"{w.h}.{'A' * (n << 20)}.{w.s}"), verdict("too_large"), max_seconds=1.0)
      for mb in (1, 8, 32)],
    Case("ENC-09", "UTF-8 BOM before the header JSON, valid signature: accepted, consistently",
         bearer(lambda w: w.craft(b"\xef\xbb\xbf" + j(w.HDR), w.claims())), ACCEPTED),
    Case("ENC-10", "the token as bytes", verifier(lambda w: w.GOOD.encode()), Verified(lambda c: c["email"] == ADA)),

    # ---- 1.5 Transport at the GraphQL API (TRN) ----------------------------------------------------------
    Case("TRN-01", "no Authorization header: the Guest role", custom(lambda w: raw_request(w, [])), GUEST),
    Case("TRN-02-bare", '"Bearer" with nothing after it', auth(lambda w: "Bearer"), BAD_AUTH_HEADER),
    Case("TRN-02-space", '"Bearer " (empty token)', auth(lambda w: "Bearer "), BAD_AUTH_HEADER),
    Case("TRN-03-Basic", "scheme Basic", auth(lambda w: "Basic dXNlcjpwYXNz"), WRONG_SCHEME),
    *[Case(f"TRN-03-{scheme}", f"scheme {scheme} with the valid token", auth(lambda w, s=scheme: f"{s} {w.GOOD}"),
           WRONG_SCHEME) for scheme in ("Token", "JWT", "DPoP")],
    Case("TRN-03-bare", "the valid token with no scheme", auth(lambda w: w.GOOD), WRONG_SCHEME),
    Case("TRN-04-lower", "scheme 'bearer' (case-insensitive)", auth(lambda w: f"bearer {w.GOOD}"), ACCEPTED),
    Case("TRN-04-upper", "scheme 'BEARER'", auth(lambda w: f"BEARER {w.GOOD}"), ACCEPTED),
    Case("TRN-05-2SP", "two spaces after Bearer (1*SP)", auth(lambda w: f"Bearer  {w.GOOD}"), ACCEPTED),
    Case("TRN-05-tab", "a tab instead of the space after Bearer", auth(lambda w: f"Bearer\t{w.GOOD}"), BAD_AUTH_HEADER),
    Case("TRN-05-tab-after", "the token followed by a tab and more", auth(lambda w: f"Bearer {w.GOOD}\tx"),
         BAD_AUTH_HEADER),
    Case("TRN-05-extra", "the token followed by a space and an extra word", auth(lambda w: f"Bearer {w.GOOD} extra"),
         BAD_AUTH_HEADER),
    Case("TRN-05-comma", "two credentials joined by a comma", auth(lambda w: f"Bearer {w.GOOD},Bearer {w.GOOD}"),
         BAD_AUTH_HEADER),
    Case("TRN-06", "two Authorization headers", auth(lambda w: [f"Bearer {w.GOOD}", f"Bearer {w.GOOD}"]),
         BAD_AUTH_HEADER),
    Case("TRN-06-api-token", "two Authorization headers, one of them the Administrator API token",
         auth(lambda w: [f"Bearer {w.box.api_token}", f"Bearer {w.GOOD}"]), BAD_AUTH_HEADER),
    Case("TRN-07-query", "?access_token= alone is never read: Guest",
         custom(lambda w: raw_request(w, [], query="access_token=" + w.GOOD, token=w.GOOD)), GUEST),
    Case("TRN-07-both", "?access_token= together with a valid header: 400",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.GOOD)], query="access_token=" + w.GOOD,
                                    token=w.GOOD)), BAD_AUTH_HEADER),
    Case("TRN-08-body", "token in the JSON body: ignored, Guest",
         custom(lambda w: raw_request(w, [], body=json.dumps({"query": QUERY, "access_token": w.GOOD}).encode(),
                                    token=w.GOOD)), GUEST),
    Case("TRN-08-variables", "token in the GraphQL variables: ignored, Guest",
         custom(lambda w: raw_request(w, [], token=w.GOOD, body=json.dumps(
             {"query": QUERY, "variables": {"token": w.GOOD, "access_token": w.GOOD}}).encode())), GUEST),
    Case("TRN-08-form", "token as the form field access_token: not JSON, refused (415)", custom(_form_token),
         HttpError(415, "InvalidArgumentError", "Send the request as application/json")),
    Case("TRN-09-8K1", "a token of 8 KB + 1", auth(lambda w: "Bearer " + w.GOOD + "A" * (8193 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-09-16K", "a 16 KB Authorization header", auth(lambda w: "Bearer " + w.GOOD + "A" * (16384 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-09-64K", "a 64 KB Authorization header", auth(lambda w: "Bearer " + w.GOOD + "A" * (65536 - len(w.GOOD))),
         rejected("too_large")),
    Case("TRN-10", "non-ASCII bytes as the token: Bearer \\xe9\\xff", auth(lambda w: b"Bearer \xe9\xff"),
         rejected("malformed")),
    Case("TRN-11", "a valid but expired ID token: TokenExpiredError, so the client can refresh",
         bearer(lambda w: signed(w, iat=w.NOW - 7200, exp=w.NOW - 3600)), EXPIRED),
    Case("TRN-12-aud", "a valid token for another audience", bearer(lambda w: signed(w, aud="other-client")),
         rejected("bad_audience")),
    Case("TRN-12-iss", "a token from another issuer (a live loopback host): rejected, its JWKS never fetched",
         bearer(lambda w: by_attacker(w, iss=w.trap_url)), UNKNOWN_ISSUER),
    Case("TRN-13-script", "kid <script>: the answer never reflects it",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "<script>alert(1)</script>"})), rejected("bad_signature"),
         leaks=("<script>", "alert(1)")),
    Case("TRN-13-path", "kid ../../etc/passwd: the answer never reflects it",
         bearer(lambda w: signed(w, {**w.HDR, "kid": "../../etc/passwd"})), rejected("bad_signature"),
         leaks=("etc/passwd",)),
    Case("TRN-13-crit", 'crit ["<img onerror>"]: PyJWT would echo the name; the answer must not',
         bearer(lambda w: signed(w, {**w.HDR, "crit": ["<img src=x onerror=alert(1)>"]})), rejected("bad_header"),
         leaks=("onerror",)),
    Case("TRN-14-crashers", "every input that crashes some PyJWT version, in a row: never a 5xx",
         custom(_crashers), rejected("malformed")),
    Case("TRN-14-SIG12", "the SIG-12 TypeError path: a verdict, never an exception",
         verifier(lambda w: hs256(w, w.PUB_PEM, {"alg": "HS256", "typ": "JWT", "kid": w.KID}),
                  misconfigured("RS256", "HS256"), lambda w: w.any_kid(w.PUB)), verdict("alg_not_allowed")),
    Case("TRN-14-html-jwks", "the JWKS endpoint answers 200 with HTML: key_unavailable, no exception",
         verifier(lambda w: w.GOOD, keys=html_jwks), verdict("key_unavailable")),
    Case("TRN-14-private-jwks", "the IdP publishes private key members: the API fails closed, no 500",
         custom(_private_jwks_api), KeyUnavailableApi(), box="private"),
    Case("TRN-15", "CORS preflight with Authorization requested and no token: 200 with CORS headers",
         custom(_preflight), Preflight()),
    Case("TRN-16", "GET with a valid token: GET is disabled (405)",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.GOOD)], method="GET", body=b"",
                                    query="query=%7B%20user%20%7B%20id%20%7D%20%7D", token=w.GOOD)),
         HttpError(405, "InvalidArgumentError", "Send GraphQL requests with POST")),
    Case("TRN-16-mutation", "GET carrying a mutation: refused (405), nothing runs",
         custom(lambda w: raw_request(w, [("Authorization", "Bearer " + w.box.api_token)], method="GET", body=b"",
                                    query="query=mutation%7BnoteDelete(id%3A%22x%22)%7Bsuccess%7D%7D")),
         HttpError(405, "InvalidArgumentError", "Send GraphQL requests with POST")),
]

REQUIRED_IDS = ([f"SIG-{n:02d}" for n in range(1, 21)] + [f"HDR-{n:02d}" for n in range(1, 18)]
                + [f"CLM-{n:02d}" for n in range(1, 35)] + [f"ENC-{n:02d}" for n in range(1, 11)]
                + [f"TRN-{n:02d}" for n in range(1, 17)])


# ---------------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def leeway_sandbox() -> Sandbox:
    """A sandbox whose API allows 60 s of clock skew (CLM-04)."""
    box = launch_sandbox(token_leeway=60)
    yield box
    box.stop()


@pytest.fixture(scope="module")
def strict_sandbox() -> Sandbox:
    """A sandbox whose API requires email_verified before linking a token to a user (CLM-28)."""
    box = launch_sandbox(require_email_verified=True)
    yield box
    box.stop()


BOXES = {"shared": "sandbox", "leeway": "leeway_sandbox", "private": "own_sandbox", "strict": "strict_sandbox"}


def test_every_catalog_case_is_in_the_table():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    covered = {i[:6] for i in ids}
    assert [i for i in REQUIRED_IDS if i not in covered] == []
    assert all(re.fullmatch(r"(SIG|HDR|CLM|ENC|TRN)-\d\d(-[\w]+)*", i) for i in ids)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_token_case(case: Case, request: pytest.FixtureRequest) -> None:
    box: Sandbox = request.getfixturevalue(BOXES[case.box])
    now = int(time.time())
    box.clock.freeze(now)
    w = World(box, now)
    try:
        started = time.monotonic()
        outcome = case.send(w)
        elapsed = time.monotonic() - started
        case.expect.check(outcome, w)
        if case.max_seconds is not None:
            assert elapsed < case.max_seconds, f"took {elapsed:.2f} s"
        assert w.trap_hits() == 0, "the server connected to an attacker-chosen URL"
        _hygiene(case, outcome, w)
        if case.verifier_code is not None:
            assert outcome.token is not None
            try:
                verify_token(outcome.token, w.api_keys, w.api_expectations(), now=w.NOW)
            except TokenRejected as rejected_token:
                assert rejected_token.code == case.verifier_code, repr(rejected_token)
            else:
                pytest.fail("the verifier accepted the token")
    finally:
        box.clock.reset()
        w.close()


def _hygiene(case: Case, o: Outcome, w: World) -> None:
    """TRN-13 and TRN-14 for every case."""
    if o.kind == "http":
        assert o.status is not None and o.status < 500, f"HTTP {o.status}"
        if o.status == 200 and isinstance(case.expect, Accepted | Guest | Preflight):
            return
        text = o.body.decode("utf-8", "replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in o.headers.items())
        assert "Traceback" not in text and "File \"" not in text
        assert "-----BEGIN" not in text and '"n":' not in text
        if isinstance(o.token, str) and len(o.token) >= 3:
            assert o.token not in text, "the answer echoes the token"
            for part in o.token.split("."):
                assert len(part) < 16 or part not in text, "the answer echoes part of the token"
        for leak in case.leaks:
            assert leak not in text, f"the answer echoes {leak!r}"
    elif o.kind == "verdict" and o.rejected is not None:
        text = str(o.rejected) + " " + repr(o.rejected)
        for leak in case.leaks:
            assert leak not in text
        if isinstance(o.token, str) and len(o.token) >= 16:
            assert o.token not in text
