"""Run code in a kernel through its Jupyter server: the REST API starts it, the kernel WebSocket runs cells.

This is what JupyterLab does in a learner's browser (the server's ``/api/sessions`` and
``/api/kernels/<id>/channels``, messages in the Jupyter protocol, JSON over the WebSocket).
https://jupyter-server.readthedocs.io/en/latest/developers/websocket-protocols.html
https://jupyter-client.readthedocs.io/en/stable/messaging.html
"""
from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from datetime import datetime, timezone

import requests
from websockets.sync.client import connect


class KernelChannel:
    """One kernel of one Jupyter server, reached through ``base`` (e.g. ``http://hub/user/NAME/``)."""

    def __init__(self, base: str, token: str, notebook_path: str, timeout: float = 120) -> None:
        self.headers = {"Authorization": f"token {token}"}
        self.timeout = timeout
        answer = requests.post(base + "api/sessions", headers=self.headers, timeout=timeout,
                               json={"path": notebook_path, "type": "notebook", "kernel": {"name": "python3"}})
        answer.raise_for_status()
        self.kernel_id = answer.json()["kernel"]["id"]
        self.session = uuid.uuid4().hex
        url = base.replace("http", "ws", 1) + f"api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        self._open = ExitStack()
        self.socket = self._open.enter_context(
            connect(url, additional_headers=self.headers, max_size=None, open_timeout=timeout))
        self._request("kernel_info_request", {})

    def run(self, code: str) -> list[dict]:
        """Execute ``code``; its outputs as nbformat dicts (stream, display_data, execute_result, error)."""
        return self._request("execute_request", {"code": code, "silent": False, "store_history": True,
                                                 "user_expressions": {}, "allow_stdin": False,
                                                 "stop_on_error": True})

    def _request(self, kind: str, content: dict) -> list[dict]:
        msg_id = uuid.uuid4().hex
        self.socket.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": kind, "session": self.session, "username": "learner",
                       "version": "5.3", "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": []}))
        outputs: list[dict] = []
        replied = idle = False
        deadline = time.monotonic() + self.timeout
        while not (replied and idle):
            raw = self.socket.recv(timeout=max(0.1, deadline - time.monotonic()))
            if isinstance(raw, bytes):                  # binary frames carry widget buffers: not outputs
                continue
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind_in = message["header"]["msg_type"]
            if message["channel"] == "shell":
                replied = True
            elif kind_in == "status":
                idle = message["content"]["execution_state"] == "idle"
            elif kind_in in ("stream", "display_data", "execute_result", "error"):
                _append(outputs, kind_in, message["content"])
            elif kind_in == "clear_output":
                outputs.clear()
        return outputs

    def close(self) -> None:
        self._open.close()

    def __enter__(self) -> "KernelChannel":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _append(outputs: list[dict], kind: str, content: dict) -> None:
    """Add one output as nbformat stores it (consecutive text on one stream is merged, as Jupyter does)."""
    if kind == "stream":
        if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == content["name"]:
            outputs[-1]["text"] += content["text"]
        else:
            outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
    elif kind == "error":
        outputs.append({"output_type": "error", **{k: content[k] for k in ("ename", "evalue", "traceback")}})
    else:
        output = {"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {})}
        if kind == "execute_result":
            output["execution_count"] = content.get("execution_count")
        outputs.append(output)
