"""Starting the sandbox: ``python -m helpers.sandbox`` and ``start_sandbox()``; the shared clock."""
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

from helpers.sandbox import Clock, launch_sandbox, start_sandbox
from helpers.sandbox.common.server import bind_loopback

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_KEYS = {"idp_url", "api_url", "spa_client_id", "m2m_client_id", "m2m_client_secret", "api_audience",
                 "connection", "users", "auth_profile_id", "api_token", "workspace_id"}


def run_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "helpers.sandbox", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_cli_prints_the_json_contract_first_serves_and_stops_cleanly(stop_signal):
    process = run_cli("--idp-port", "0", "--api-port", "0")
    try:
        facts = json.loads(process.stdout.readline())
        assert CONTRACT_KEYS <= set(facts)
        assert facts["idp_url"].startswith("http://localhost:") and facts["idp_url"].endswith("/")
        assert facts["connection"] == "Username-Password-Authentication"
        assert facts["api_url"].startswith("http://localhost:") and facts["api_url"].endswith("/" + facts["workspace_id"])
        answer = requests.post(facts["api_url"], json={"query": "{ rolesList { count } }"}, timeout=5,
                               headers={"Authorization": "Bearer " + facts["api_token"]})
        assert answer.json() == {"data": {"rolesList": {"count": 3}}}
        assert facts["api_settings"]["email_case_sensitive"] is True and "jwks_cache_ttl" in facts["api_settings"]
        assert {"email": "ada@example.com", "password": "ada-sandbox-pass"} in facts["users"]
        assert all(set(u) == {"email", "password"} for u in facts["users"])
        doc = requests.get(facts["idp_url"] + ".well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == facts["idp_url"]
        token = requests.post(facts["idp_url"] + "oauth/token", timeout=5, json={
            "grant_type": "client_credentials", "client_id": facts["m2m_client_id"],
            "client_secret": facts["m2m_client_secret"], "audience": facts["api_audience"]})
        assert token.status_code == 200
    finally:
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
    assert "Traceback" not in process.stderr.read()


def test_cli_fixed_port_and_a_clear_error_when_it_is_taken():
    taken = bind_loopback(0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        process = run_cli("--idp-port", str(port))
        out, err = process.communicate(timeout=20)
        assert process.returncode == 2 and out == ""
        assert f"port {port}" in err and "Traceback" not in err
    finally:
        taken.close()
    free = bind_loopback(0)
    port = free.getsockname()[1]
    free.close()
    process = run_cli("--idp-port", str(port))
    try:
        assert json.loads(process.stdout.readline())["idp_url"] == f"http://localhost:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_rejects_a_port_out_of_range():
    process = run_cli("--idp-port", "70000")
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2 and "between 0 and 65535" in err


def test_start_sandbox_is_reused_in_the_same_kernel_and_fresh_starts_anew(sandbox):
    assert start_sandbox() is sandbox
    assert sandbox.info()["idp_url"] == sandbox.idp_url and sandbox.idp_domain == sandbox.idp_url[7:-1]


def test_an_independent_sandbox_serves_stops_and_logs_nothing(sandbox, capfd):
    other = launch_sandbox()
    assert other.idp_url != sandbox.idp_url and start_sandbox() is sandbox
    try:
        requests.get(other.idp_url + "no-such-page", timeout=5)
        requests.post(other.idp_url + "oauth/token", data=b"{", headers={"Content-Type": "application/json"}, timeout=5)
    finally:
        other.stop()
    assert not other.running and sandbox.running
    with pytest.raises(requests.ConnectionError):
        requests.get(other.idp_url + ".well-known/jwks.json", timeout=2)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_clock_freeze_advance_unfreeze_reset():
    clock = Clock()
    frozen = clock.freeze(1_000_000)
    assert frozen == clock.now() == 1_000_000 and clock.frozen
    assert clock.advance(3600) == 1_003_600 and clock.now_int() == 1_003_600
    clock.unfreeze()
    assert not clock.frozen and abs(clock.now() - 1_003_600) < 1
    clock.reset()
    assert abs(clock.now() - time.time()) < 1
    clock.advance(-60)
    assert abs(clock.now() - (time.time() - 60)) < 1


def test_a_new_sandbox_removes_folders_that_killed_processes_left(tmp_path, monkeypatch):
    """A kernel killed by nbval or Jupyter never runs atexit: the next sandbox removes its folder."""
    import subprocess
    import sys

    from helpers.sandbox.common import data_folder

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    abandoned = tmp_path / f"{data_folder.PREFIX}{dead_pid}-abc"
    mine = tmp_path / f"{data_folder.PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / f"{data_folder.PREFIX}legacy"
    for folder in (abandoned, mine, unrelated):
        folder.mkdir()
        (folder / "main.db").write_text("x")
    monkeypatch.setattr(data_folder.tempfile, "tempdir", str(tmp_path))

    box = launch_sandbox()
    try:
        assert not abandoned.exists()
        assert mine.exists() and unrelated.exists()
        assert box.data_dir.parent == tmp_path and box.data_dir.name.startswith(f"{data_folder.PREFIX}{os.getpid()}-")
    finally:
        box.stop()
    assert not box.data_dir.exists()


def test_a_running_sandbox_can_be_told_to_trust_another_issuer(own_sandbox):
    from helpers.verify import issuer_of_profile_domain
    assert own_sandbox.info()["trusted_issuer"] is None
    profile_id = own_sandbox.trust("http://127.0.0.1:9/issuer", "their-spa")
    facts = own_sandbox.info()
    assert (facts["trusted_issuer"], facts["trusted_client_id"], facts["trusted_auth_profile_id"]) == (
        "http://127.0.0.1:9/issuer", "their-spa", profile_id)
    for environment in ("Master", "dev"):
        profiles = own_sandbox.api.database(own_sandbox.workspace_id, environment).auth_profiles()
        assert [p.issuer for p in profiles][-1] == "http://127.0.0.1:9/issuer"  # exactly: no slash added
    assert own_sandbox.api.settings.jwks_from_discovery is True
    assert issuer_of_profile_domain("tenant.eu.auth0.com") == "https://tenant.eu.auth0.com/"


def test_cli_takes_a_trusted_issuer_and_prints_it():
    process = run_cli("--trust-issuer", "http://127.0.0.1:9/issuer", "--trust-client-id", "their-spa")
    try:
        facts = json.loads(process.stdout.readline())
        assert facts["trusted_issuer"] == "http://127.0.0.1:9/issuer" and facts["trusted_client_id"] == "their-spa"
        assert facts["trusted_auth_profile_id"] and CONTRACT_KEYS <= set(facts)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
