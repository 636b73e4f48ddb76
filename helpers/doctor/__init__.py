"""Why does my call fail? The token doctor: ordered checks, each with its evidence and a fix.

>>> diagnosis = diagnose(id_token, sandbox.api_url, api_token=sandbox.api_token, now=sandbox.clock.now())
>>> diagnosis.first_problem          # the cause: the first finding whose status is "problem"
Finding(check='signed_up', title='Never signed up in this environment', status='problem', ...)
>>> diagnosis.table()                # check, status, evidence, fix: one row per check, in order

The doctor first gathers the facts (:class:`~.facts.Facts`: the token decoded; the API's own answer to
``operation`` sent with the token, the issuer's JWKS and, with ``api_token``, an API token with workspace
administration, ``authenticationProfilesList`` and ``usersList``, each read over HTTP on first use), then runs
the check functions in the order of :data:`CHECKS` (:mod:`.token_checks`, :mod:`.user_checks`), so the first
problem is the cause and later findings are its consequences; a check that depends on a failed one is
``skipped``. What cannot be known without the admin reads is reported as ``unknown``, with the reason.
:func:`diagnose` never raises, and no finding repeats the token (or the API tokens). The report type
(:class:`~.report.Report`, :class:`Finding`) is shared with :mod:`helpers.preflight`; the widget is
:func:`helpers.widgets.doctor_widget`.

This package talks to servers over HTTP only; it never imports the sandbox.
"""
from .facts import Facts
from .report import STATUSES, Diagnosis, Finding, Report
from .runner import CHECKS, DEFAULT_OPERATION, ORDER, REQUIRES, diagnose, run_checks

__all__ = ["CHECKS", "DEFAULT_OPERATION", "ORDER", "REQUIRES", "STATUSES", "Diagnosis", "Facts", "Finding",
           "Report", "diagnose", "run_checks"]
