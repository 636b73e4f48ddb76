"""B6: every lesson under strict nbval against as many empty notebooks under nbval.

Subject: ``python -m pytest --nbval --nbval-sanitize-with tests/nbval-sanitize.cfg --nbval-current-env``
on ``notebooks/*.ipynb`` (the lessons, not ``notebooks/solutions/``), as ``make test`` runs them.
Floor: the same command, same interpreter, same configuration file, on the same number of generated
notebooks (one code cell ``pass``, the lessons' kernelspec) in a temporary folder: pytest start-up plus
one kernel start and shutdown per notebook.
Wall-clock time of each pytest process; the rounds alternate which one goes first.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Size, check
from .report import Result, Target
from .timing import once_pair

ROOT = Path(__file__).resolve().parents[1]
NBVAL = ["--nbval", "--nbval-sanitize-with", "tests/nbval-sanitize.cfg", "--nbval-current-env"]


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def empty_notebook(kernelspec: dict) -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": 1, "id": "empty", "metadata": {}, "outputs": [],
                   "source": ["pass"]}],
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def pytest_nbval(paths: list[Path]) -> tuple[float, int, str]:
    """Wall time, exit code and pytest's closing line for nbval over ``paths``."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
               "--rootdir", str(ROOT), "-rfE", *NBVAL, *map(str, paths)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = lines[-1].strip("= ") if lines else done.stdout[-300:]
    failures = [line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return elapsed, done.returncode, summary + "".join(f" [{f}]" for f in failures)


def run(size: Size) -> list[Result]:
    notebooks = lessons()
    check(bool(notebooks), "B6: no lesson notebooks found")
    kernelspec = json.loads(notebooks[0].read_text())["metadata"].get(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    outcomes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-b6-") as folder:
        empties = []
        for lesson in notebooks:
            path = Path(folder) / f"empty-{lesson.stem}.ipynb"
            path.write_text(json.dumps(empty_notebook(kernelspec)))
            empties.append(path)

        def subject() -> float:
            elapsed, code, summary = pytest_nbval(notebooks)
            outcomes.append(f"exit {code}: {summary}")
            return elapsed

        def floor() -> float:
            elapsed, code, summary = pytest_nbval(empties)
            check(code == 0, f"B6: the empty notebooks failed under nbval: {summary}")
            return elapsed

        paired = once_pair(subject, floor, rounds=size.pick(3, 1))
    notes = [f"{len(notebooks)} lessons; lesson runs: " + "; ".join(dict.fromkeys(outcomes))]
    return [Result("B6", f"all {len(notebooks)} lessons under nbval vs {len(notebooks)} empty notebooks under nbval",
                   paired.value, paired.floor_value, "s", paired.ratio, Target("<=", 3.0), len(paired.subject),
                   paired.spread, notes)]
