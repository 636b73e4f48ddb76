"""B8: a class on one JupyterHub: 8 learners run lesson 04 at the same time (``bench.classroom``).

Two rows:

- memory per learner: the learner's single-user server RSS plus their kernel's RSS after the lesson (the
  kernel holds the lesson's sandbox: identity provider, API and sample app are threads of it), the median
  over learners; floor: a bare kernel (the same kernel before the lesson ran). Target: <= 1000 MB, what
  mybinder.org guarantees one user (https://mybinder.readthedocs.io/en/latest/about/about.html). The notes
  give the proportional set size too (shared library pages counted once across learners: what a host needs).
- wall time: first login to the last learner's last cell, N learners at once; floor: one learner alone on a
  fresh hub (same steps). Target: <= N x, i.e. a class at once is no slower than its learners one after
  another. Each run refuses to report if any learner saw an error, an output differing from the committed
  one, or a port, data folder, home or kernel shared with another learner.
"""
from __future__ import annotations

import statistics

from .classroom import ClassRun, run_class
from .common import Size, check
from .report import Result, Target

MB = 1e6


def _checked(run: ClassRun) -> ClassRun:
    for learner in run.learners:
        check(not learner.errors, f"B8: {learner.name} saw errors: {learner.errors}")
        check(not learner.mismatches, f"B8: {learner.name}: outputs differ from the committed ones in cells "
                                      f"{learner.mismatches}")
    check(not run.collisions(), f"B8: learners share resources: {run.collisions()}")
    check(not run.leftovers, f"B8: processes outlived the hub: {run.leftovers}")
    check(not run.breaches, f"B8: the hub let in what it should refuse: {run.breaches}")
    return run


def run(size: Size) -> list[Result]:
    learners = size.pick(8, 2)
    alone = _checked(run_class(1))
    together = _checked(run_class(learners))
    people = together.learners
    per_learner = statistics.median(learner.rss for learner in people) / MB
    bare = statistics.median(learner.bare_kernel_rss for learner in people) / MB
    notes = [
        f"{learners} learners, lesson 04 ({people[0].cells} code cells) each; hub start-up {together.hub_start_s:.1f} s",
        "per learner MB (server + kernel = RSS; PSS): " + ", ".join(
            f"{p.server_rss / MB:.0f} + {p.kernel_rss / MB:.0f} = {p.rss / MB:.0f}; {p.pss / MB:.0f}" for p in people),
        f"sum of PSS over the class: {sum(p.pss for p in people) / MB:.0f} MB; bare kernel RSS {bare:.0f} MB "
        f"(server + bare kernel {statistics.median(p.server_rss + p.bare_kernel_rss for p in people) / MB:.0f} MB); "
        f"the lesson adds {statistics.median(p.kernel_rss - p.bare_kernel_rss for p in people) / MB:.0f} MB "
        "to a kernel (median)",
        "server start s: " + ", ".join(f"{p.spawn_s:.1f}" for p in people)
        + "; lesson s: " + ", ".join(f"{p.lesson_s:.1f}" for p in people),
        f"one learner alone: wall {alone.wall_s:.1f} s, lesson {alone.learners[0].lesson_s:.1f} s, "
        f"server + kernel {alone.learners[0].rss / MB:.0f} MB",
    ]
    return [
        Result("B8", f"memory per learner, {learners} at once (server + kernel RSS)", per_learner, bare, "MB",
               per_learner / bare, Target("<=", 1000, on="value", unit="MB"), learners,
               (min(p.rss for p in people) / MB / bare, max(p.rss for p in people) / MB / bare), notes),
        Result("B8", f"wall time, {learners} learners at once vs one alone", together.wall_s, alone.wall_s, "s",
               together.wall_s / alone.wall_s, Target("<=", learners), 1),
    ]
