"""The API's temporary data folder, and the clean-up of folders that killed processes left behind.

A kernel that Jupyter or nbval kills never runs its ``atexit`` hooks, so its temporary folder stays. Each
folder is named after the process that made it (``auth-flows-lab-api-<pid>-<random>``); a new sandbox
removes the folders whose process is gone.
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

PREFIX = "auth-flows-lab-api-"
_OWNED = re.compile(re.escape(PREFIX) + r"(\d+)-")


def temporary_data_folder() -> Path:
    """A new folder for one sandbox's databases, removed when this process exits normally."""
    sweep_abandoned()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def sweep_abandoned(parent: Path | None = None) -> list[Path]:
    """Remove this project's temporary folders whose owning process no longer runs; return them."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(PREFIX + "*"):
        owner = _OWNED.match(folder.name)
        if owner and folder.is_dir() and not _alive(int(owner.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process, or not a pid at all: leave it
        return True
    return True
