"""Serving an ASGI app with uvicorn on a loopback port, in a background thread."""
from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Callable

import uvicorn

LOOPBACK = "127.0.0.1"


class PortInUse(OSError):
    """The requested port is taken."""


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 (``port=0`` lets the system pick a free one)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for such sockets;
    # without it, every request on a kept-alive connection waits ~40 ms for Nagle's algorithm.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"port {port} on {LOOPBACK} is not available ({exc.strerror})") from None
    return sock


def silence_uvicorn() -> None:
    """Keep uvicorn's own log lines out of notebook outputs."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


WS_MAX_SIZE = 1 << 20


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, which also tells a waiting thread the moment its startup is over."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_over = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.startup_over.set()  # started, or failed to: either way the waiting thread looks


class BackgroundServer:
    """One uvicorn server in a daemon thread. ``make_app(port)`` builds the app once the port is known."""

    def __init__(self, make_app: Callable[[int], Any], port: int = 0, quiet: bool = True) -> None:
        self._socket = bind_loopback(port)
        self.port: int = self._socket.getsockname()[1]
        self.app = make_app(self.port)
        if quiet:
            silence_uvicorn()
        # ws_max_size: the WebSocket layer refuses a message over 1 MiB before reading it all (uvicorn's default
        # is 16 MiB); the API's own, smaller ws_max_message_bytes answers with its catalogued close below that.
        config = uvicorn.Config(self.app, log_config=None, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=2, ws_max_size=WS_MAX_SIZE)
        self._server = _Uvicorn(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"sandbox-server-{self.port}", daemon=True)

    def start(self, timeout: float = 15.0) -> "BackgroundServer":
        """Start serving and wait until the server accepts connections."""
        return self.launch().wait_started(timeout)

    def launch(self) -> "BackgroundServer":
        """Start serving without waiting (then :meth:`wait_started`): several servers start side by side."""
        self._thread.start()
        return self

    def wait_started(self, timeout: float = 15.0) -> "BackgroundServer":
        """Wait until the launched server accepts connections (woken by its startup, not by polling)."""
        deadline = time.monotonic() + timeout
        while not self._server.started:
            remaining = deadline - time.monotonic()
            if not self._thread.is_alive() or remaining <= 0:
                self.stop()
                raise RuntimeError(f"the server on port {self.port} did not start")
            if self._server.startup_over.wait(min(remaining, 0.05)) and not self._server.started:
                self._thread.join(min(remaining, 0.05))  # its startup failed: the thread is ending
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._server.should_exit

    def request_stop(self) -> None:
        """Ask the server to finish its requests and stop, without waiting (several servers stop side by side)."""
        self._server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to finish its requests and stop; wait for the thread."""
        self.request_stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._socket.close()
