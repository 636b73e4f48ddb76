"""panva's node-oidc-provider (npm ``oidc-provider``, pinned in package.json) on an ephemeral loopback port.

:func:`start_node_provider` runs ``tests/oidc_provider/server.mjs`` with Debian's ``node`` and reads the
JSON line it prints. Two configurations: ``"defaults"`` (opaque access tokens, scope claims only in
``/userinfo``) and ``"resource"`` (RFC 8707 resource indicators, RFC 9068 JWT access tokens for
:data:`RESOURCE`). Without ``node`` or ``npm ci``'s node_modules a test skips locally and fails in CI.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("server.mjs")
RESOURCE = "https://notes.oidc.example/graphql"
USER = {"email": "ada@oidc.example", "password": "Correct-Horse-7", "name": "Ada Lovelace"}
MODES = ("defaults", "resource")


@dataclass
class NodeProvider:
    """A running node-oidc-provider: its issuer, clients, test user, and the process."""

    mode: str
    issuer: str
    redirect_uri: str
    spa_client_id: str
    web_client_id: str
    web_client_secret: str
    m2m_client_id: str | None
    m2m_client_secret: str
    resource: str | None
    user: dict[str, str]
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        """Stop the node process (SIGTERM, then SIGKILL after 5 s)."""
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_loopback_port() -> int:
    """A port nothing listens on now, for a loopback redirect URI (the app listens there only during a login)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_node() -> str:
    """``node``'s path once ``npm ci`` has installed oidc-provider; skip without them (fail in CI)."""
    node = shutil.which("node")
    if node and (ROOT / "node_modules" / "oidc-provider" / "package.json").is_file():
        return node
    message = "node and `npm ci` (make site-deps) are needed for node-oidc-provider"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: never skipped in CI)")
    pytest.skip(message)


def start_node_provider(mode: str, folder: Path) -> NodeProvider:
    """Start node-oidc-provider in ``mode`` (one of :data:`MODES`); its settings file goes into ``folder``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    node = require_node()
    settings = {"mode": mode, "redirect_uri": f"http://127.0.0.1:{free_loopback_port()}/callback",
                "resource": RESOURCE, "user": USER, "web_client_secret": secrets.token_urlsafe(32),
                "m2m_client_secret": secrets.token_urlsafe(32)}
    path = folder / f"oidc-provider-{mode}.json"
    path.write_text(json.dumps(settings))
    process = subprocess.Popen([node, str(SERVER), str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(5)
        raise RuntimeError(f"node-oidc-provider did not start (exit {process.returncode})")
    facts = json.loads(line)
    return NodeProvider(mode=mode, issuer=facts["issuer"], redirect_uri=settings["redirect_uri"],
                        spa_client_id=facts["spa_client_id"], web_client_id=facts["web_client_id"],
                        web_client_secret=settings["web_client_secret"], m2m_client_id=facts["m2m_client_id"],
                        m2m_client_secret=settings["m2m_client_secret"], resource=facts["resource"],
                        user=dict(USER), process=process)
