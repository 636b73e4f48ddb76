"""One clock shared by the sandbox servers, so a lesson can freeze time or jump ahead."""
from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time that can be frozen and advanced.

    Every time-dependent decision in the sandbox (token ``iat``/``exp``, code and session
    expiry, token verification) reads ``now()``, so ``advance(3600)`` expires a one-hour
    token at once without sleeping.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Current sandbox time in seconds since the epoch."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now_int(self) -> int:
        """Current sandbox time as an integer NumericDate (what JWT claims carry)."""
        return int(self.now())

    @property
    def frozen(self) -> bool:
        """True while time stands still."""
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> float:
        """Stop time at ``at`` (default: now) and return the frozen instant."""
        with self._lock:
            if at is None:
                at = self._frozen_at if self._frozen_at is not None else time.time() + self._offset
            self._frozen_at = float(at)
            return self._frozen_at

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (keeps any advance made meanwhile)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def advance(self, seconds: float) -> float:
        """Move time forward (or back, with a negative number); return the new now."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
                return self._frozen_at
            self._offset += seconds
            return time.time() + self._offset

    def reset(self) -> None:
        """Back to real time: not frozen, no offset."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
