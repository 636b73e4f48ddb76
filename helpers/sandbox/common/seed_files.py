"""What both servers' seeds share: the data folder, the seed error, and the facts filled in at start."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "sandbox"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

__all__ = ["DATA_DIR", "PLACEHOLDER", "SeedError", "fill_placeholders", "origin_of"]


class SeedError(ValueError):
    """The seed file is missing something or contradicts itself."""


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL: what a browser sends as ``Origin``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fill_placeholders(value: Any, facts: dict[str, str]) -> Any:
    """Replace ``{name}`` placeholders with facts of the running sandbox (ports are only known at start).

    A list item that still holds a placeholder (a fact this start did not provide) is left out.
    """
    if isinstance(value, str):
        for name, fact in facts.items():
            value = value.replace("{" + name + "}", fact)
        return value
    if isinstance(value, list):
        filled = [fill_placeholders(v, facts) for v in value]
        return [v for v in filled if not (isinstance(v, str) and PLACEHOLDER.search(v))]
    if isinstance(value, dict):
        return {k: fill_placeholders(v, facts) for k, v in value.items()}
    return value
