"""One report type for every live check of the lab: the doctor's diagnosis and the preflight of a target.

A :class:`Report` is a list of :class:`Finding` in the order the checks ran; the first ``problem`` is the
cause and later findings are its consequences.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

STATUSES = ("ok", "problem", "warning", "unknown", "skipped")


@dataclass(frozen=True)
class Finding:
    """One check's verdict: a stable ``check`` id, a human ``title``, a ``status``, the evidence and a fix."""

    check: str
    title: str
    status: str
    evidence: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")

    @property
    def settings(self) -> str:
        """The settings a preflight check is about (preflight names each check by its settings)."""
        return self.check


@dataclass
class Report:
    """Every finding about one ``subject`` (an endpoint, a target), in check order.

    ``key`` names the table's first column: ``check`` for the doctor, ``settings`` for the preflight.
    """

    subject: str
    findings: list[Finding] = field(default_factory=list)
    key: str = "check"

    @property
    def first_problem(self) -> Finding | None:
        """The cause: the first finding with status ``problem`` (``None`` when nothing is wrong)."""
        return next((f for f in self.findings if f.status == "problem"), None)

    @property
    def ok(self) -> bool:
        """True when no check found a problem (skipped or unknown checks are not problems)."""
        return self.first_problem is None

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Every finding with status ``problem``, in order."""
        return tuple(f for f in self.findings if f.status == "problem")

    @property
    def checks(self) -> tuple[Finding, ...]:
        """The findings as a tuple (the preflight's name for them)."""
        return tuple(self.findings)

    def finding(self, check: str) -> Finding:
        """The finding of one check id (``KeyError`` for an id that is not in the report)."""
        for found in self.findings:
            if found.check == check:
                return found
        raise KeyError(check)

    def table(self) -> pd.DataFrame:
        """The findings as a DataFrame: check (or settings), status, evidence, fix."""
        columns = [self.key, "status", "evidence", "fix"]
        return pd.DataFrame([dict(zip(columns, (f.check, f.status, f.evidence, f.fix))) for f in self.findings],
                            columns=columns)

    def headline(self) -> str:
        """One sentence: the cause and its fix, or that no check found a problem."""
        cause = self.first_problem
        if cause is None:
            return "No check found a problem."
        return f"The cause ({cause.check}): {cause.title}. Fix: {cause.fix}"

    def __repr__(self) -> str:
        lines = [self.headline()]
        lines += [f"  {f.status:<8} {f.check:<15} {f.title}" for f in self.findings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cause = self.first_problem
        head = ("<b>No check found a problem.</b>" if cause is None else
                f"<b>The cause ({html.escape(cause.check)}): {html.escape(cause.title)}.</b><br>"
                f"<b>Fix:</b> {html.escape(cause.fix)}")
        return f"<p>{head}</p>" + self.table().to_html(index=False, escape=True)


Diagnosis = Report
"""The doctor's report: ``Diagnosis(endpoint, findings)``."""
