"""The benchmark suite: every measure is a ratio against a floor measured in the same run.

``python -m bench`` (``make bench``) runs them all and prints one table; ``python -m bench B2 B4`` runs
some; ``--quick`` runs fewer iterations. Results and the machine they came from: ``bench/RESULTS.md``.

| id | module | subject vs floor |
|---|---|---|
| B1 | :mod:`bench.b1_verify` | ``verify_token`` with a warm ``JwksCache`` vs ``jwt.decode`` with a static key |
| B2 | :mod:`bench.b2_api` | API ``{ user { id } }`` + ID token vs ``{ __typename }`` without a token, p50 |
| B3 | :mod:`bench.b2_api` | the same under 8 concurrent clients, throughput |
| B4 | :mod:`bench.b4_token` | ``/oauth/token`` password-realm vs a bare JSON route on the same uvicorn |
| B5 | :mod:`bench.b5_startup` | ``start_sandbox()`` until both servers answer vs uvicorn + a bare app |
| B6 | :mod:`bench.b6_notebooks` | every lesson under nbval vs as many empty notebooks |
| B7 | :mod:`bench.b7_memory` | kernel RSS after ``start_sandbox()`` minus a bare kernel |
| B8 | :mod:`bench.b8_class` | 8 learners run lesson 04 at once on one JupyterHub: memory per learner vs a bare kernel, wall time vs one learner |

Timing helpers (percentiles, warm-up, interleaving subject and floor) are in :mod:`bench.timing`.
Speed and memory are judged here only, never in tests.
"""
from __future__ import annotations

import importlib
from functools import partial
from typing import Callable

from .common import Size
from .report import Result

_ENTRY_POINTS = {"B1": ("b1_verify", "run"), "B2": ("b2_api", "run_b2"), "B3": ("b2_api", "run_b3"),
                 "B4": ("b4_token", "run"), "B5": ("b5_startup", "run"), "B6": ("b6_notebooks", "run"),
                 "B7": ("b7_memory", "run"), "B8": ("b8_class", "run")}


def _run(module: str, function: str, size: Size) -> list[Result]:
    """Import the benchmark's module only when it runs (each imports what it measures)."""
    return getattr(importlib.import_module(f".{module}", __name__), function)(size)


BENCHMARKS: dict[str, Callable[[Size], list[Result]]] = {
    bench_id: partial(_run, *entry) for bench_id, entry in _ENTRY_POINTS.items()}
