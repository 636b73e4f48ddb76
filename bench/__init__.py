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

Timing helpers (percentiles, warm-up, interleaving subject and floor) are in :mod:`bench.timing`.
Speed and memory are judged here only, never in tests.
"""
from __future__ import annotations

from typing import Callable

from .common import Size
from .report import Result


def _b1(size: Size) -> list[Result]:
    from . import b1_verify
    return b1_verify.run(size)


def _b2(size: Size) -> list[Result]:
    from . import b2_api
    return b2_api.run_b2(size)


def _b3(size: Size) -> list[Result]:
    from . import b2_api
    return b2_api.run_b3(size)


def _b4(size: Size) -> list[Result]:
    from . import b4_token
    return b4_token.run(size)


def _b5(size: Size) -> list[Result]:
    from . import b5_startup
    return b5_startup.run(size)


def _b6(size: Size) -> list[Result]:
    from . import b6_notebooks
    return b6_notebooks.run(size)


def _b7(size: Size) -> list[Result]:
    from . import b7_memory
    return b7_memory.run(size)


BENCHMARKS: dict[str, Callable[[Size], list[Result]]] = {
    "B1": _b1, "B2": _b2, "B3": _b3, "B4": _b4, "B5": _b5, "B6": _b6, "B7": _b7,
}
