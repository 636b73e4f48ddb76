"""Keep every lesson's closing navigation cell (tagged ``navigation``) in sync with the lessons that exist.

Usage: .venv/bin/python tools/sync_navigation.py   (rewrites only that markdown cell; outputs are untouched)
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.lessons import NAVIGATION_TAG, NOTEBOOKS, lesson_map, navigation_markdown  # noqa: E402


def sync(path: Path) -> bool:
    """Add or update the navigation cell at the end of one lesson; True if the file changed."""
    notebook = nbformat.read(path, as_version=4)
    text = navigation_markdown(path.name)
    cells = [c for c in notebook.cells if NAVIGATION_TAG in c.get("metadata", {}).get("tags", [])]
    if cells and cells[0].source == text:
        return False
    if cells:
        cells[0].source = text
    else:
        notebook.cells.append(nbformat.v4.new_markdown_cell(text, metadata={"tags": [NAVIGATION_TAG]}))
    nbformat.write(notebook, path)
    return True


def main() -> int:
    for name in lesson_map(NOTEBOOKS)["file"]:
        if sync(NOTEBOOKS / name):
            print("updated", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
