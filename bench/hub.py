"""A JupyterHub for a class on this machine: its proxy from npm, a local-process spawner, learner accounts.

Only for measuring and testing (``bench.classroom``): ``SimpleLocalProcessSpawner`` runs every learner's
single-user server as the hub's own system user, each with its own home (a temporary folder), and the
``shared-password`` authenticator lets the listed learners in with one password. Both are JupyterHub's
own classes, meant for trials like this one, not for a real class (docs/teaching-a-class.md).
https://jupyterhub.readthedocs.io/en/stable/reference/api/spawner.html
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"   # pinned in package.json (make site-deps)
SINGLE_USER = Path(sys.executable).with_name("jupyterhub-singleuser")
HUB = Path(sys.executable).with_name("jupyterhub")

CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///" + {db!r}
c.JupyterHub.cookie_secret_file = {cookie_secret!r}
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = set({learners!r})
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{single_user!r}]
c.Spawner.args = {args!r}
c.Spawner.environment = {{"PYTHONPATH": {root!r}}}
c.Spawner.start_timeout = 240
c.Spawner.http_timeout = 240
"""


def free_port() -> int:
    """A port the system says is free now (JupyterHub and its proxy take numbers, not port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Hub:
    """A running JupyterHub (``start``/``stop``, or ``with Hub(...) as hub``)."""

    folder: Path
    learners: list[str]
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    url: str = ""
    process: subprocess.Popen | None = None

    @property
    def homes(self) -> Path:
        return self.folder / "home"

    @property
    def log(self) -> Path:
        return self.folder / "jupyterhub.log"

    def start(self, timeout: float = 120) -> "Hub":
        if not PROXY.exists():
            raise FileNotFoundError(f"{PROXY} is missing: run `make site-deps` (npm ci) first")
        port = free_port()
        self.homes.mkdir(parents=True, exist_ok=True)
        config = self.folder / "jupyterhub_config.py"
        config.write_text(CONFIG.format(
            port=port, hub_port=free_port(), proxy_api_port=free_port(), proxy=str(PROXY),
            db=str(self.folder / "jupyterhub.sqlite"), cookie_secret=str(self.folder / "cookie_secret"),
            password=self.password, learners=sorted(self.learners), homes=str(self.homes),
            single_user=str(SINGLE_USER), args=["--allow-root"] if os.geteuid() == 0 else [], root=str(ROOT)))
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("w") as log:
            self.process = subprocess.Popen([str(HUB), "-f", str(config)], cwd=self.folder, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({self.process.returncode}): {self.log_tail()}")
            try:
                if requests.get(self.url + "/hub/api/", timeout=2).ok:     # through the proxy: both are up
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"JupyterHub did not answer in {timeout} s: {self.log_tail()}")

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM: the hub stops every learner's server (and so its kernels) and its proxy, then exits."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def __enter__(self) -> "Hub":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
