"""Try a purpose-made ``.env`` without touching your own: write it to a temporary folder and load it.

A lesson shows what :func:`helpers.config.load_target` says about a setting that is wrong, missing or right, so
the answer is the :class:`~helpers.config.Target`, or the :class:`~helpers.config.ConfigError`'s message with the
temporary path shown as ``.env``.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from .config import ConfigError, Target, load_target


def try_settings(text: str, folder: str | Path | None = None) -> Target | str:
    """Load ``text`` as a ``.env`` written into ``folder`` (default: a new temporary folder): the Target, or the
    ConfigError's message."""
    path = Path(folder or tempfile.mkdtemp(prefix="lab-settings-")) / ".env"
    path.write_text(text)
    try:
        return load_target(path)
    except ConfigError as error:
        return str(error).replace(str(path), ".env")
