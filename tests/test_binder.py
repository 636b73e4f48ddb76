"""binder/: the files repo2docker (Binder) reads, and the start script that launches the sandbox before Jupyter."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "binder" / "start"

# The command start execs: prints its pid and the sandbox's discovery document, read from the JSON facts file.
PROBE = """
import json, os, sys, urllib.request
info = json.load(open(os.environ["AUTH_FLOWS_SANDBOX_INFO"]))
with urllib.request.urlopen(info["idp_url"] + ".well-known/openid-configuration", timeout=5) as answer:
    print(json.dumps({"pid": os.getpid(), "args": sys.argv[1:], "issuer": json.load(answer)["issuer"]}))
"""


def _run_start(folder: Path, sandbox_args: str | None, *command: str) -> tuple[subprocess.CompletedProcess, Path, int]:
    """Run binder/start with its facts file in ``folder``; ``sandbox_args`` None leaves the script's default."""
    info = folder / "sandbox.json"
    env = {**os.environ, "AUTH_FLOWS_SANDBOX_INFO": str(info), "PYTHON": sys.executable}
    env.pop("AUTH_FLOWS_SANDBOX_ARGS", None)
    if sandbox_args is not None:
        env["AUTH_FLOWS_SANDBOX_ARGS"] = sandbox_args
    process = subprocess.Popen([str(START), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=folder)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), info, process.pid


def _stop(pid_file: Path) -> None:
    """Stop the sandbox a start script left running (by the pid it recorded)."""
    if not (pid_file.exists() and pid_file.read_text().strip()):
        return
    pid = int(pid_file.read_text())
    try:
        exited = os.pidfd_open(pid)  # not our child: its pidfd turns readable when it exits (Linux >= 5.3)
    except ProcessLookupError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        select.select([exited], [], [], 5)
    except ProcessLookupError:
        return
    finally:
        os.close(exited)


@pytest.fixture
def stop_sandbox(tmp_path):
    """Stops every sandbox a start script left running under tmp_path."""
    yield
    for pid_file in tmp_path.rglob("sandbox.pid"):
        _stop(pid_file)


def test_start_runs_the_sandbox_then_execs_the_command(tmp_path, stop_sandbox):
    result, info, start_pid = _run_start(tmp_path, None, sys.executable, "-c", PROBE, "lab", "--ip=0.0.0.0")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    facts = json.loads(info.read_text().splitlines()[0])
    assert seen["pid"] == start_pid            # exec: the command replaced the script, Jupyter gets its signals
    assert seen["args"] == ["lab", "--ip=0.0.0.0"]
    assert seen["issuer"] == facts["idp_url"]   # the sandbox answered before the command ran
    # and it keeps running after the command is gone (it serves the whole Binder session)
    assert requests.get(facts["idp_url"] + ".well-known/jwks.json", timeout=5).status_code == 200
    assert "sandbox running" in result.stderr


def test_two_learners_on_one_host_get_their_own_ports(tmp_path, stop_sandbox):
    """On one JupyterHub host every learner runs binder/start: no fixed port, so the second sandbox starts too."""
    facts = []
    for learner in ("learner-1", "learner-2"):
        (tmp_path / learner).mkdir()
        result, info, _ = _run_start(tmp_path / learner, None, sys.executable, "-c", PROBE)
        assert result.returncode == 0, result.stderr
        assert "sandbox running" in result.stderr, result.stderr
        facts.append(json.loads(info.read_text().splitlines()[0]))
    urls = [fact[key] for fact in facts for key in ("idp_url", "api_host", "sample_app_url")]
    assert len(set(urls)) == len(urls)                    # six servers, six ports
    assert facts[0]["data_dir"] != facts[1]["data_dir"]
    for fact in facts:                                    # both still serve, each its own issuer
        discovery = requests.get(fact["idp_url"] + ".well-known/openid-configuration", timeout=5).json()
        assert discovery["issuer"] == fact["idp_url"]


def test_jupyter_still_starts_when_the_sandbox_cannot(tmp_path, stop_sandbox):
    result, info, _ = _run_start(tmp_path, "--seed /nonexistent/tenant.json",
                                 sys.executable, "-c", "print('jupyter would start here')")
    assert result.returncode == 0
    assert result.stdout.strip() == "jupyter would start here"
    assert "did not start" in result.stderr
    assert info.read_text() == ""
    assert (tmp_path / "sandbox.log").read_text().strip()    # the reason is kept for the learner


def test_binder_installs_the_pinned_requirements():
    """repo2docker reads only binder/ once it exists: its requirements must be the project's own file."""
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-r ../requirements.txt"]
    assert (ROOT / "binder" / "runtime.txt").read_text().strip().startswith("python-3.1")
    assert os.access(START, os.X_OK)
