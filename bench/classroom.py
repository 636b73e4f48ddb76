"""A class on one JupyterHub: N learners each run lesson 04 through their own single-user server, at once.

Each learner logs in with the class password (JupyterHub's token API takes it in the request body), starts
their server, uploads the lesson to their home through the server's contents API, and runs every code cell
in a kernel of that server over the kernel WebSocket (``bench.kernel_channel``), as JupyterLab would.
Lesson 04 starts its own sandbox inside the kernel (``start_sandbox()``: free ports, a temporary data folder).

Checked per learner: no error output; every cell's output equals the committed one after the same
sanitising as strict nbval (``tests/nbval-sanitize.cfg``, nbval's own pattern reader and comparison keys).
Checked across learners: no two sandboxes share a port, a data folder, a home or a kernel.
Checked at the hub: a wrong class password is refused, and so is a learner's token on another's server.
Measured: the resident set size (``VmRSS``) of the learner's single-user server and of their kernel (the
sandbox's servers are threads of the kernel), and the kernel's RSS when it was still bare (before the lesson).
"""
from __future__ import annotations

import concurrent.futures
import copy
import json
import os
import re
import signal
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import requests
from nbval.plugin import coalesce_streams, get_sanitize_patterns

from .hub import ROOT, Hub
from .kernel_channel import KernelChannel

LESSON = ROOT / "notebooks" / "04-authenticated-graphql-calls.ipynb"
SANITIZE = get_sanitize_patterns((ROOT / "tests" / "nbval-sanitize.cfg").read_text())
SKIP_COMPARE = {"metadata", "traceback", "output_type", "execution_count", "name",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}   # as nbval does
BARE = "import json, os\nprint(json.dumps({'pid': os.getpid(), 'ppid': os.getppid()}))"
FACTS = """import json, os, threading
print(json.dumps({"pid": os.getpid(), "home": os.path.expanduser("~"), "cwd": os.getcwd(),
                  "idp_url": sandbox.idp_url, "api_host": sandbox.api_host, "sample_app_url": sandbox.sample_app_url,
                  "data_dir": str(sandbox.data_dir), "threads": threading.active_count()}))"""


@dataclass
class Learner:
    """What one learner's run gave."""

    name: str
    spawn_s: float = 0.0
    lesson_s: float = 0.0
    cells: int = 0
    errors: list[str] = field(default_factory=list)          # "cell N: ename: evalue"
    mismatches: list[int] = field(default_factory=list)      # code cells whose output differs from the committed
    facts: dict = field(default_factory=dict)                 # the kernel's own sandbox, home, pid
    server_pid: int = 0
    server_rss: int = 0                                       # bytes, after the lesson
    bare_kernel_rss: int = 0                                  # bytes, before the lesson
    kernel_rss: int = 0                                       # bytes, after the lesson (sandbox threads included)
    pss: int = 0                                              # bytes, server + kernel, shared pages shared out
    token: str = field(default="", repr=False)                # the learner's own API token

    @property
    def rss(self) -> int:
        """Memory of this learner: their single-user server plus their kernel (and its sandbox)."""
        return self.server_rss + self.kernel_rss


@dataclass
class ClassRun:
    learners: list[Learner]
    hub_start_s: float
    wall_s: float                                             # first login to last lesson done
    leftovers: list[int] = field(default_factory=list)        # servers or kernels alive after the hub stopped
    breaches: list[str] = field(default_factory=list)         # a wrong password or another's server let in

    def collisions(self) -> list[str]:
        """Resources two learners share (there must be none)."""
        owners: dict[str, list[str]] = defaultdict(list)
        for learner in self.learners:
            facts = learner.facts
            for key in ("idp_url", "api_host", "sample_app_url"):
                owners[f"port {urlsplit(facts[key]).port}"].append(learner.name)
            for key in ("data_dir", "home", "pid"):
                owners[f"{key} {facts[key]}"].append(learner.name)
        return [f"{what}: {', '.join(names)}" for what, names in owners.items() if len(names) > 1]


def rss(pid: int) -> int:
    """Resident set size of a process in bytes (``/proc/PID/status``)."""
    return _kilobytes(Path(f"/proc/{pid}/status"), "VmRSS:") * 1024


def pss(pid: int) -> int:
    """Proportional set size in bytes: pages shared with other processes counted as a share (what adds up)."""
    return _kilobytes(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") * 1024


def _kilobytes(path: Path, field_name: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(field_name):
            return int(line.split()[1])
    raise ValueError(f"no {field_name} in {path}")


def _sanitize(value: object) -> object:
    if not isinstance(value, str):
        return value
    for regex, replace in SANITIZE:
        value = re.sub(regex, replace, value)
    return value


def comparable(outputs: list[dict]) -> dict[str, list]:
    """nbval's view of a cell's outputs: streams merged by name (nbval's own ``coalesce_streams``), then each
    output key (data flattened, streams by name) -> sanitised values."""
    flat: dict[str, list] = defaultdict(list)
    for output in coalesce_streams([nbformat.from_dict(copy.deepcopy(output)) for output in outputs]):
        if output["output_type"] == "stream":
            flat[output["name"]].append(_sanitize(output["text"]))
            continue
        for key, value in output.items():
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat[mime].append(_sanitize(data if isinstance(data, str) else "".join(data)))
            elif key not in SKIP_COMPARE:
                flat[key].append(_sanitize(value))
    return dict(flat)


def log_in(hub: Hub, name: str) -> tuple[str, dict[str, str]]:
    """The learner's own API token, from their name and the class password (the hub's authenticator checks it)."""
    login = requests.post(f"{hub.url}/hub/api/users/{name}/tokens", timeout=60,
                          json={"auth": {"username": name, "password": hub.password}, "note": "class run"})
    login.raise_for_status()
    token = login.json()["token"]
    return token, {"Authorization": f"token {token}"}


def run_learner(hub: Hub, name: str, lesson: dict) -> Learner:
    """One learner: log in, start their server, upload the lesson, run it cell by cell in their kernel."""
    learner = Learner(name)
    token, headers = log_in(hub, name)
    learner.token = token
    started = time.monotonic()
    requests.post(f"{hub.url}/hub/api/users/{name}/server", headers=headers, timeout=300).raise_for_status()
    _wait_ready(hub, name, headers)
    learner.spawn_s = time.monotonic() - started
    base = f"{hub.url}/user/{name}/"
    requests.put(base + "api/contents/" + LESSON.name, headers=headers, timeout=60,
                 json={"type": "notebook", "format": "json", "content": lesson}).raise_for_status()
    with KernelChannel(base, token, LESSON.name, timeout=300) as channel:
        bare = json.loads(channel.run(BARE)[0]["text"])
        learner.server_pid = bare["ppid"]
        if "jupyterhub-singleuser" not in Path(f"/proc/{bare['ppid']}/cmdline").read_text(errors="replace"):
            raise RuntimeError(f"{name}: the kernel's parent is not the single-user server")
        learner.bare_kernel_rss = rss(bare["pid"])
        started = time.monotonic()
        code_cells = [cell for cell in lesson["cells"] if cell["cell_type"] == "code"]
        for number, cell in enumerate(code_cells, 1):
            outputs = channel.run(cell["source"])
            learner.errors += [f"cell {number}: {o['ename']}: {o['evalue']}" for o in outputs
                               if o["output_type"] == "error"]
            if comparable(outputs) != comparable(cell["outputs"]):
                learner.mismatches.append(number)
        learner.lesson_s = time.monotonic() - started
        learner.cells = len(code_cells)
        learner.facts = json.loads(channel.run(FACTS)[0]["text"])
        learner.kernel_rss = rss(learner.facts["pid"])
        learner.server_rss = rss(learner.server_pid)
        learner.pss = pss(learner.server_pid) + pss(learner.facts["pid"])
    return learner


def _wait_ready(hub: Hub, name: str, headers: dict, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = requests.get(f"{hub.url}/hub/api/users/{name}", headers=headers, timeout=30).json()["servers"]
        if server.get("", {}).get("ready"):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{name}'s server did not start in {timeout} s")


def run_class(learners: int, folder: Path | None = None) -> ClassRun:
    """Start a hub with ``learners`` accounts, run lesson 04 for all of them at once, stop the hub."""
    names = [f"learner-{number}" for number in range(1, learners + 1)]
    lesson = nbformat.read(LESSON, as_version=4)        # multi-line strings joined, as the kernel sends them
    hub = Hub(Path(folder or tempfile.mkdtemp(prefix="auth-flows-lab-hub-")), names)
    started = time.monotonic()
    try:
        with hub:
            hub_start = time.monotonic() - started
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(learners) as pool:
                results = list(pool.map(lambda name: run_learner(hub, name, lesson), names))
            wall = time.monotonic() - started
            breaches = breaches_of(hub, results)
    finally:
        if folder is None:
            hub.remove()
    pids = [pid for learner in results for pid in (learner.server_pid, learner.facts.get("pid", 0)) if pid]
    return ClassRun(results, hub_start, wall, _kill_leftovers(pids), breaches)


def breaches_of(hub: Hub, learners: list[Learner]) -> list[str]:
    """What should be refused and was not: a wrong class password, a learner's token on another's server."""
    found = []
    wrong = requests.post(f"{hub.url}/hub/api/users/{learners[0].name}/tokens", timeout=60,
                          json={"auth": {"username": learners[0].name, "password": hub.password + "x"}})
    if wrong.status_code != 403:
        found.append(f"a wrong password got HTTP {wrong.status_code}")
    for learner, other in zip(learners, learners[1:] + learners[:1]):
        if other is learner:
            continue
        answer = requests.get(f"{hub.url}/user/{other.name}/api/contents", timeout=60, allow_redirects=False,
                              headers={"Authorization": f"token {learner.token}"})
        if answer.status_code != 403:
            found.append(f"{learner.name}'s token on {other.name}'s server got HTTP {answer.status_code}")
    return found


def _kill_leftovers(pids: list[int], grace: float = 10) -> list[int]:
    """The learners' processes still alive once the hub has stopped (it should have stopped them): killed."""
    deadline = time.monotonic() + grace
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
        time.sleep(0.2)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return alive
