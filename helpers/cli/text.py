"""What ``auth-flows-lab`` prints: pure functions from results to text (human) or dicts (``--json``).

Nothing here reads input or talks to a server, so each function is tested directly. Every human-readable
text goes through :func:`redact`, which replaces each secret the command was given by :func:`shorten`.
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Iterable

from ..catalog import CatalogEntry
from ..tokens import TokenParts, readable_time

if TYPE_CHECKING:
    import pandas as pd

    from ..doctor import Diagnosis, Finding
    from ..verify import TokenRejected

SHOWN = 12  # characters of a secret shown before "…", as lessons and transcripts shorten tokens
WIDTH = 100
HISTORY_NOTE = ("note: a token typed on the command line stays in your shell history (and shows in `ps` while "
                "this runs); next time pass - instead: paste it at the hidden prompt, or pipe it in "
                "(`auth-flows-lab {command} - < token.txt`).")
WORKS, CAUSE_FOUND, USAGE = 0, 1, 2  # exit statuses


def shorten(secret: str) -> str:
    """``eyJhbGciOiJS… (812 chars)``: at most a quarter of a secret (and never more than :data:`SHOWN` chars)."""
    shown = min(SHOWN, len(secret) // 4)
    return f"{secret[:shown]}… ({len(secret)} chars)"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret (the longest first) replaced by its :func:`shorten` form."""
    for secret in sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True):
        text = text.replace(secret, shorten(secret))
    return text


def dumps(value: Any) -> str:
    """The one JSON line a ``--json`` command prints (values JSON cannot hold become strings)."""
    return json.dumps(value, default=str, ensure_ascii=False)


def _wrap(label: str, text: str, indent: int = 4) -> str:
    lead = " " * indent + label
    return textwrap.fill(text, WIDTH, initial_indent=lead, subsequent_indent=" " * len(lead))


def _value(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- decode
def decoded(parts: TokenParts, kind: str, table: pd.DataFrame) -> dict[str, Any]:
    """``decode --json``: kind, header, payload and every claim explained (times readable)."""
    return {"kind": kind, "verified": False, "header": parts.header, "payload": parts.payload,
            "signature_bytes": len(parts.signature), "claims": table.to_dict("records")}


def decoded_text(parts: TokenParts, kind: str, table: pd.DataFrame) -> str:
    """``decode``: the token shortened, then each header parameter and claim with its meaning."""
    article = "an" if kind[0].lower() in "aeiou" else "a"
    lines = [f"{shorten(parts.raw)}: looks like {article} {kind}",
             "Decoded only, NOT verified: anyone can write these claims (check it with `auth-flows-lab verify`)."]
    width = max([10, *(len(str(name)) for name in table["claim"])])
    for part in ("header", "payload"):
        lines.append(f"{part}:")
        for row in table[table["part"] == part].itertuples():
            readable = f"  = {row.readable}" if row.readable else ""
            lines.append(f"  {row.claim:<{width}} {_value(row.value)}{readable}")
            spec = f" [{row.spec}]" if row.spec else ""
            lines.append(_wrap("", f"{row.meaning}{spec}", indent=width + 3))
    lines.append(f"signature: {len(parts.signature)} bytes")
    return "\n".join(lines)


# ---------------------------------------------------------------------- verify
def entry_dict(entry: CatalogEntry | None) -> dict[str, Any] | None:
    """A catalog entry as ``--json`` prints it."""
    return asdict(entry) if entry is not None else None


def verified(claims: dict[str, Any]) -> dict[str, Any]:
    """``verify --json`` for a token the verifier accepted."""
    return {"valid": True, "claims": claims}


def verified_text(claims: dict[str, Any], now: float) -> str:
    """``verify`` for an accepted token: who, for whom, until when."""
    lines = ["Valid: the signature verifies with the issuer's published keys and every claim checks out."]
    for name in ("iss", "sub", "aud", "email", "exp"):
        if name in claims:
            value = readable_time(claims[name], now) if name == "exp" else _value(claims[name])
            lines.append(f"  {name:<6} {value}")
    return "\n".join(lines)


def refused(rejected: TokenRejected, entry: CatalogEntry | None) -> dict[str, Any]:
    """``verify --json`` for a refusal: the verifier's code and sentence, and the catalog entry."""
    return {"valid": False, "code": rejected.code, "message": rejected.message, "claim": rejected.claim,
            "catalog": entry_dict(entry)}


def refused_text(rejected: TokenRejected, entry: CatalogEntry | None, note: str = "") -> str:
    """``verify`` for a refusal: one line for the verdict, then the catalog entry."""
    claim = f", claim {rejected.claim}" if rejected.claim else ""
    lines = [f"Refused ({rejected.code}{claim}): {rejected.message}"]
    if note:
        lines.append(_wrap("", note, indent=2))
    lines.append(str(entry) if entry is not None else "No catalog entry has this refusal.")
    return "\n".join(lines)


# ---------------------------------------------------------------------- doctor
def _finding_dict(finding: Finding) -> dict[str, str]:
    return asdict(finding)


def diagnosis(result: Diagnosis) -> dict[str, Any]:
    """``doctor --json``: does the call work, the cause (the first problem), every finding in order."""
    cause = result.first_problem
    return {"endpoint": result.subject, "works": call_works(result), "headline": result.headline(),
            "cause": _finding_dict(cause) if cause else None, "findings": [_finding_dict(f) for f in result.findings]}


def call_works(result: Diagnosis) -> bool:
    """The API answered the operation with data (the doctor's last check)."""
    return result.finding("api_answer").status == "ok"


def diagnosis_text(result: Diagnosis) -> str:
    """``doctor``: one line per check, then the cause with its evidence and fix (or what is unknown)."""
    lines = [f"Doctor for {result.subject}"]
    lines += [f"  {f.status:<8} {f.check:<15} {f.title}" for f in result.findings]
    cause = result.first_problem
    if cause is not None:
        lines.append(f"Cause ({cause.check}): {cause.title}.")
        lines += [_wrap("evidence: ", cause.evidence, 2), _wrap("fix:      ", cause.fix, 2)]
    elif call_works(result):
        lines.append("The call works: no check found a problem.")
    else:
        lines.append("No check found a cause, but the call does not work:")
        lines += [_wrap(f"{f.check}: ", f"{f.evidence} {f.fix}", 2) for f in result.findings if f.status == "unknown"]
    return "\n".join(lines)


def doctor_status(result: Diagnosis) -> int:
    """0 when the call works, 1 otherwise (a cause was found, or the doctor says what it could not tell)."""
    return WORKS if call_works(result) else CAUSE_FOUND
