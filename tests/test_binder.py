"""binder/: the files repo2docker (Binder) reads, and the start script that launches the sandbox before Jupyter."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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


def _run_start(tmp_path: Path, sandbox_args: str, *command: str) -> tuple[subprocess.CompletedProcess, Path, int]:
    info = tmp_path / "sandbox.json"
    env = {**os.environ, "AUTH_FLOWS_SANDBOX_INFO": str(info), "AUTH_FLOWS_SANDBOX_ARGS": sandbox_args,
           "PYTHON": sys.executable}
    process = subprocess.Popen([str(START), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=tmp_path)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), info, process.pid


@pytest.fixture
def stop_sandbox(tmp_path):
    """Stops the sandbox a start script left running (by the pid it recorded)."""
    yield
    pid_file = tmp_path / "sandbox.pid"
    if pid_file.exists() and pid_file.read_text().strip():
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def test_start_runs_the_sandbox_then_execs_the_command(tmp_path, stop_sandbox):
    result, info, start_pid = _run_start(tmp_path, "--idp-port 0 --api-port 0",
                                         sys.executable, "-c", PROBE, "lab", "--ip=0.0.0.0")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    facts = json.loads(info.read_text().splitlines()[0])
    assert seen["pid"] == start_pid            # exec: the command replaced the script, Jupyter gets its signals
    assert seen["args"] == ["lab", "--ip=0.0.0.0"]
    assert seen["issuer"] == facts["idp_url"]   # the sandbox answered before the command ran
    # and it keeps running after the command is gone (it serves the whole Binder session)
    assert requests.get(facts["idp_url"] + ".well-known/jwks.json", timeout=5).status_code == 200
    assert "sandbox running" in result.stderr


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
