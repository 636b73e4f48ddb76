"""B7: what ``start_sandbox()`` adds to a Jupyter kernel's memory.

"Kernel" here is a real IPython kernel, started the way JupyterLab and nbval start one for this
project (``jupyter_client``, kernelspec ``python3`` of the venv: ``.venv/bin/python -m
ipykernel_launcher``), fresh for every round. Its resident set size is read from ``/proc/self/status``
(``VmRSS``; psutil is not installed) inside the kernel:

- floor: right after start-up, in the first cell (a bare kernel: IPython, ipykernel, zmq, tornado);
- after: in the second cell, once ``import helpers`` and ``sandbox = helpers.start_sandbox()`` have run
  and both servers have answered one request (IdP discovery, API ``{ __typename }``), after
  ``gc.collect()``.

Value: after minus floor, in MB (10^6 bytes), the median of the rounds; the target is on that value.
The ratio column is after / floor, for information.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .common import Size, check
from .report import Result, Target
from .timing import Paired, median

ROOT = Path(__file__).resolve().parents[1]
READ_RSS = """
def _bench_rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
print('BENCH', _bench_rss())
"""
START_SANDBOX = """
import gc, requests, helpers
sandbox = helpers.start_sandbox()
assert requests.get(sandbox.idp_url + '.well-known/openid-configuration', timeout=30).status_code == 200
assert requests.post(sandbox.api_url, json={'query': '{ __typename }'}, timeout=30).status_code == 200
gc.collect()
print('BENCH', _bench_rss())
"""


def _execute(client, code: str) -> int:
    """Run ``code`` in the kernel; the integer it printed after ``BENCH``."""
    printed: list[str] = []
    errors: list[str] = []

    def hook(message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            printed.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

    reply = client.execute_interactive(code, output_hook=hook, timeout=120)
    check(reply["content"]["status"] == "ok" and not errors, f"B7: the kernel failed: {errors}")
    values = [line.split()[1] for line in "".join(printed).splitlines() if line.startswith("BENCH ")]
    check(len(values) == 1, f"B7: unexpected kernel output {printed!r}")
    return int(values[0])


def one_kernel() -> tuple[int, int]:
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT), stderr=subprocess.DEVNULL)
    try:
        bare = _execute(client, READ_RSS)
        after = _execute(client, START_SANDBOX)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
    return bare, after


def run(size: Size) -> list[Result]:
    paired = Paired()
    for _ in range(size.pick(3, 1)):
        bare, after = one_kernel()
        paired.subject.append((after - bare) / 1e6)
        paired.floor.append(bare / 1e6)
    ratios = [(s + f) / f for s, f in zip(paired.subject, paired.floor)]
    note = "rounds (delta MB / bare MB): " + json.dumps([[round(s, 1), round(f, 1)]
                                                        for s, f in zip(paired.subject, paired.floor)])
    return [Result("B7", "kernel RSS after start_sandbox() minus a bare kernel", paired.value, paired.floor_value,
                   "MB", median(ratios), Target("<=", 60, on="value", unit="MB"), len(paired.subject),
                   (min(ratios), max(ratios)), [note])]
