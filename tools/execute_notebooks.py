"""Restart & Run All for lessons: execute notebooks in place so their committed outputs are fresh.

Usage: .venv/bin/python tools/execute_notebooks.py [notebook ...]   (default: every lesson and solution)
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> None:
    """Run every cell in a fresh kernel started in the notebook's folder, then save the outputs and the widgets'
    state (metadata ``widgets``), from which the static site draws each widget as it was at the end of the run."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)


def main(paths: list[str]) -> int:
    targets = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").glob("**/*.ipynb"))
    for path in targets:
        if ".ipynb_checkpoints" in path.parts:
            continue
        execute(path)
        print("executed", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
