"""The map of lessons, read from the notebooks themselves so it never lists a lesson that is not there."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LESSON_FILE = re.compile(r"(\d\d)-[a-z0-9-]+\.ipynb")
QUESTION = "**Question:**"


def lesson_map(folder: str | Path = NOTEBOOKS) -> pd.DataFrame:
    """One row per lesson: number, file, title (first heading) and the question it answers."""
    rows = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        if not LESSON_FILE.fullmatch(path.name):
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "".join(cells[0]["source"]) if cells else ""
        title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("# ")), path.stem)
        question = next((line.removeprefix(QUESTION).strip() for line in text.splitlines()
                         if line.startswith(QUESTION)), "")
        rows.append({"lesson": path.name[:2], "file": path.name, "title": title, "question": question})
    return pd.DataFrame(rows, columns=["lesson", "file", "title", "question"])


NAVIGATION_TAG = "navigation"


def navigation_markdown(file: str, folder: str | Path = NOTEBOOKS) -> str:
    """``< previous | contents | next >`` links for a lesson, from the lessons that exist."""
    files = list(lesson_map(folder)["file"])
    index = files.index(file)
    parts = []
    if index > 0:
        parts.append(f"[< {files[index - 1][:-6]}]({files[index - 1]})")
    parts.append("[contents](00-start-here.ipynb#0.6-The-map-of-lessons)")
    if index + 1 < len(files):
        parts.append(f"[{files[index + 1][:-6]} >]({files[index + 1]})")
    return " | ".join(parts)
