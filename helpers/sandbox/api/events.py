"""Note changes fanned out to open subscriptions, one bounded queue per subscription.

An :class:`~helpers.sandbox.api.store.EnvironmentDb` calls its note listeners in commit order, under its
write lock, from whatever thread wrote. :class:`NoteEvents` hands each change to the queues of that
database's subscriptions with ``loop.call_soon_threadsafe``, so every subscription sees the changes in
commit order, each once. A queue holds at most ``limit`` events: a subscriber that falls further behind
is reported once through ``on_overflow`` and gets nothing more, so memory stays bounded.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

from .records import NoteRecord
from .store import EnvironmentDb

NOTE_COLUMNS = {"title": "title", "body": "body"}


@dataclass(frozen=True)
class NoteEvent:
    """One committed change of a note: ``create``, ``update`` or ``delete``."""

    mutation: str
    note: NoteRecord
    previous: NoteRecord | None = None

    @property
    def updated_fields(self) -> list[str]:
        """The fields an update changed (empty for create and delete)."""
        if self.mutation != "update" or self.previous is None:
            return []
        return [name for name, column in NOTE_COLUMNS.items()
                if getattr(self.note, column) != getattr(self.previous, column)]


class EventQueue:
    """The events waiting to be sent to one subscription (at most ``limit``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, on_overflow: Callable[[], None]) -> None:
        self.loop = loop
        self.limit = limit
        self.on_overflow = on_overflow
        self.overflowed = False
        self.high_water = 0  # the most events ever waiting at once (tests read it)
        self._events: deque[NoteEvent] = deque()
        self._ready = asyncio.Event()

    def offer(self, event: NoteEvent) -> None:
        """Queue an event from any thread."""
        try:
            self.loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # the loop is closed: the subscription is gone
            pass

    def _put(self, event: NoteEvent) -> None:
        if self.overflowed:
            return
        if len(self._events) >= self.limit:
            self.overflowed = True
            self._events.clear()
            self.on_overflow()
            return
        self._events.append(event)
        self.high_water = max(self.high_water, len(self._events))
        self._ready.set()

    async def get(self) -> NoteEvent:
        """The next event, waiting for one."""
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()

    def __len__(self) -> int:
        return len(self._events)


class NoteEvents:
    """Which subscriptions listen to which environment database. Every database is listened to from the start
    (the databases live as long as the API), so no commit falls between a subscription and its listener."""

    def __init__(self, databases: Iterable[EnvironmentDb]) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a subscription starts or stops listening
        self._queues: dict[EnvironmentDb, set[EventQueue]] = {}
        for db in databases:
            self._queues[db] = set()
            db.listen_to_notes(lambda mutation, note, previous, db=db: self._publish(db, NoteEvent(mutation, note,
                                                                                                    previous)))

    def attach(self, db: EnvironmentDb, queue: EventQueue) -> None:
        """Start feeding ``queue`` with the note changes of ``db``."""
        with self._changed:
            self._queues[db].add(queue)
            self._changed.notify_all()

    def detach(self, db: EnvironmentDb, queue: EventQueue) -> None:
        with self._changed:
            self._queues[db].discard(queue)
            self._changed.notify_all()

    def subscriptions(self) -> int:
        """How many subscriptions are listening."""
        with self._lock:
            return self._listening()

    def _listening(self) -> int:
        return sum(len(queues) for queues in self._queues.values())

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until exactly ``count`` subscriptions listen (a start message is handled asynchronously);
        raise :class:`TimeoutError` if that does not happen within ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._listening() == count, timeout):
                raise TimeoutError(f"{self._listening()} subscriptions listen, not {count}")

    def _publish(self, db: EnvironmentDb, event: NoteEvent) -> None:
        with self._lock:
            queues = list(self._queues[db])
        for queue in queues:
            queue.offer(event)
