"""The expected answers of the catalog's cases, and the ``Case`` record itself."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from helpers.verify import REASONS
from tests.token_cases.world import ADA, Outcome, World


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


class KeyUnavailableApi(Answer):
    """The key source is broken: a fixed ExternalServiceError (the API's A-503), never a 200 user, never a 500."""

    def check(self, o, w):
        error = _error(o)
        expected = ("ExternalServiceError", {"token": REASONS["key_unavailable"]})
        assert (error["code"], error["details"]) == expected, error



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


