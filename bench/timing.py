"""Timing helpers shared by the benchmarks: percentiles, warm-up, and subject/floor interleaving.

The machine is shared and noisy, so no absolute time is ever judged. Every benchmark measures a
*subject* and a *floor* in the same run, interleaved so that a burst of load from elsewhere hits both:

- latency (:func:`latency_pair`): subject and floor calls alternate one by one (``S F F S S F ...``, the
  order flipping every pair), in several rounds; each round gives a p50 (or another percentile) of each
  and their ratio;
- throughput (:func:`throughput_pair`): N client threads run the subject, then the floor, for a fixed
  time each, the order flipping every round;
- one-shot costs (:func:`once_pair`): one subject and one floor per round, the order flipping every round.

The reported ratio is the **median of the per-round ratios**; the spread (lowest and highest per-round
ratio) says how noisy the run was.
"""
from __future__ import annotations

import gc
import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass
class Paired:
    """Per-round statistics of a subject and its floor, measured in the same rounds."""

    subject: list[float] = field(default_factory=list)  # one statistic per round (p50, req/s, seconds...)
    floor: list[float] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=lambda: {"subject": [], "floor": []})
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratios(self) -> list[float]:
        return [s / f for s, f in zip(self.subject, self.floor)]

    @property
    def ratio(self) -> float:
        return median(self.ratios)

    @property
    def value(self) -> float:
        return median(self.subject)

    @property
    def floor_value(self) -> float:
        return median(self.floor)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.ratios), max(self.ratios)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds taken by one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def warm_up(*fns: Callable[[], Any], calls: int) -> None:
    """Call each function ``calls`` times, interleaved (imports, caches, connections, JIT-free warm paths)."""
    for _ in range(calls):
        for fn in fns:
            fn()


def latency_pair(subject: Callable[[], Any], floor: Callable[[], Any], *, rounds: int, per_round: int,
                 warmup: int = 20, q: float = 50, disable_gc: bool = False) -> Paired:
    """Per-call latencies of ``subject`` and ``floor``, alternating call by call.

    Each round times ``per_round`` calls of each; its statistic is the ``q``-th percentile.
    ``disable_gc`` keeps the cyclic collector out of micro-benchmarks (it runs between rounds).
    """
    warm_up(subject, floor, calls=warmup)
    result = Paired()
    clock = time.perf_counter
    for round_index in range(rounds):
        gc.collect()
        if disable_gc:
            gc.disable()
        s_times: list[float] = []
        f_times: list[float] = []
        try:
            for i in range(per_round):
                first_subject = (i + round_index) % 2 == 0
                for is_subject in ((True, False) if first_subject else (False, True)):
                    fn = subject if is_subject else floor
                    start = clock()
                    fn()
                    (s_times if is_subject else f_times).append(clock() - start)
        finally:
            if disable_gc:
                gc.enable()
        result.subject.append(percentile(s_times, q))
        result.floor.append(percentile(f_times, q))
        result.samples["subject"].extend(s_times)
        result.samples["floor"].extend(f_times)
    return result


def throughput_pair(subject: Callable[[int], Any], floor: Callable[[int], Any], *, clients: int, seconds: float,
                    rounds: int, warmup_seconds: float = 0.5) -> Paired:
    """Requests per second of ``clients`` concurrent threads running ``subject(i)`` then ``floor(i)``.

    ``i`` is the client's index (for a per-client HTTP session). Each round runs both phases for
    ``seconds`` each; the phase order flips every round.
    """
    result = Paired()
    _run_clients(subject, clients, warmup_seconds)
    _run_clients(floor, clients, warmup_seconds)
    for round_index in range(rounds):
        gc.collect()
        order = (subject, floor) if round_index % 2 == 0 else (floor, subject)
        rates = {}
        for fn in order:
            rates[fn] = _run_clients(fn, clients, seconds)
        result.subject.append(rates[subject])
        result.floor.append(rates[floor])
    return result


def _run_clients(fn: Callable[[int], Any], clients: int, seconds: float) -> float:
    """Run ``fn(i)`` in a loop on ``clients`` threads for ``seconds``; completed calls per second."""
    counts = [0] * clients
    errors: list[BaseException] = []
    start_barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(i: int) -> None:
        start_barrier.wait()
        try:
            while not stop.is_set():
                fn(i)
                counts[i] += 1
        except BaseException as exc:  # surfaced below: a failing call must not look like a slow one
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(counts) / elapsed


def once_pair(subject: Callable[[], float | None], floor: Callable[[], float | None], *, rounds: int,
              warmup: int = 0) -> Paired:
    """One subject and one floor per round, order flipping each round.

    Each function returns the quantity it measured (seconds, bytes...) or ``None`` to be timed
    with the wall clock.
    """
    for _ in range(warmup):
        subject()
        floor()
    result = Paired()
    for round_index in range(rounds):
        gc.collect()
        order = (True, False) if round_index % 2 == 0 else (False, True)
        values: dict[bool, float] = {}
        for is_subject in order:
            fn = subject if is_subject else floor
            start = time.perf_counter()
            measured = fn()
            values[is_subject] = time.perf_counter() - start if measured is None else measured
        result.subject.append(values[True])
        result.floor.append(values[False])
    return result
