"""Every environment database of every workspace of the sandbox API, under one folder."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..common.clock import Clock
from .seed import ApiSeed
from .store import EnvironmentDb


class ApiData:
    """Every environment database of every workspace, under one folder."""

    def __init__(self, seed: ApiSeed, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._databases: dict[tuple[str, str], EnvironmentDb] = {}
        for workspace in seed.workspaces.values():
            for environment in workspace.environments:
                db = EnvironmentDb(folder / f"{workspace.id}__{environment}.sqlite3", clock)
                db.seed(seed, workspace, environment)
                self._databases[(workspace.id, environment.lower())] = db

    def database(self, workspace_id: str, environment: str) -> EnvironmentDb | None:
        """The database of a workspace environment (environment names are case-insensitive)."""
        return self._databases.get((workspace_id, environment.lower()))

    def has_workspace(self, workspace_id: str) -> bool:
        return any(ws == workspace_id for ws, _ in self._databases)

    def __iter__(self) -> Iterator[EnvironmentDb]:
        return iter(self._databases.values())

    def close(self) -> None:
        for db in self._databases.values():
            db.close()
