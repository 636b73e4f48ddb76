"""Results, targets, the printed table and the machine description that goes with it."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """``ratio <= 1.3`` or ``value <= 60`` (``on`` is "ratio" or "value")."""

    op: str  # "<=" or ">="
    limit: float
    on: str = "ratio"
    unit: str = "x"

    def met(self, value: float, ratio: float) -> bool:
        measured = ratio if self.on == "ratio" else value
        return measured <= self.limit if self.op == "<=" else measured >= self.limit

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}{'x' if self.on == 'ratio' else ' ' + self.unit}"


@dataclass
class Result:
    id: str
    measure: str
    value: float
    floor: float
    unit: str
    ratio: float
    target: Target
    rounds: int
    spread: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.target.met(self.value, self.ratio)

    def cells(self) -> list[str]:
        spread = f"{self.spread[0]:.2f}-{self.spread[1]:.2f}" if self.spread else ""
        return [self.id, self.measure, _fmt(self.value, self.unit), _fmt(self.floor, self.unit),
                f"{self.ratio:.2f}x", str(self.target), "yes" if self.met else "NO", f"{self.rounds}", spread]


HEADERS = ["id", "measure", "value", "floor", "ratio", "target", "met?", "rounds", "ratio min-max"]


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value * 1e3:.2f} ms"  # values are kept in seconds
    if unit == "us":
        return f"{value * 1e6:.1f} us"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:g} {unit}"


def text_table(results: list[Result]) -> str:
    rows = [HEADERS] + [r.cells() for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: list[Result]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in results]
    return "\n".join(lines)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    """nproc, CPU model, memory, Python, date: what RESULTS.md records with every table."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "os": f"{platform.system()} {platform.release()}",
        "load average (1/5/15 min) at start": load_average(),
    }


def machine_text(info: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in info.items())
