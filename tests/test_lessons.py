"""Every lesson follows the house template, links only to what exists, and holds clean outputs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.lessons import NAVIGATION_TAG, NOTEBOOKS, lesson_map, navigation_markdown

LESSONS = list(lesson_map()["file"])
LOCAL_LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)(#[^)]*)?\)")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def markdown(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")


def test_lessons_are_numbered_in_order_from_00():
    assert LESSONS and [f[:2] for f in LESSONS] == [f"{i:02d}" for i in range(len(LESSONS))]


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_follows_the_template(name):
    path = NOTEBOOKS / name
    first = "".join(cells(path)[0]["source"])
    assert first.startswith(f"# {name[:2]} ") and "**Question:**" in first
    assert "**In this lesson you will learn to**" in first and "**Prerequisites:**" in first
    text = markdown(path)
    for heading in ("## Exercises", "## Recap", "## Questionnaire"):
        assert heading in text, heading
    assert "```mermaid" in text and "sequenceDiagram" in text
    assert re.search(r"^## \d+\.\d+ ", text, re.MULTILINE), "numbered sections"
    solutions = NOTEBOOKS / "solutions" / f"{name[:-6]}-solutions.ipynb"
    assert solutions.exists() and f"solutions/{solutions.name}" in text


@pytest.mark.parametrize("name", LESSONS)
def test_the_last_cell_links_previous_contents_and_next(name):
    last = cells(NOTEBOOKS / name)[-1]
    assert NAVIGATION_TAG in last["metadata"].get("tags", [])
    assert "".join(last["source"]) == navigation_markdown(name)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("**/*.ipynb")), ids=lambda p: p.name)
def test_links_point_to_notebooks_that_exist(path):
    for target, _anchor in LOCAL_LINK.findall(markdown(path)):
        assert (path.parent / target).exists(), target


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("**/*.ipynb")), ids=lambda p: p.name)
def test_outputs_are_committed_clean(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "Restart & Run All, then commit"
    for cell in code:
        for output in cell["outputs"]:
            text = json.dumps(output)
            assert output["output_type"] != "error"
            assert not re.search(r"Traceback \(most recent call last\)|site-packages/|/root/|/home/", text)


def test_navigation_of_the_first_lesson_has_no_previous():
    assert not navigation_markdown(LESSONS[0]).startswith("[<")


def test_the_readme_lists_every_lesson_with_its_title():
    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    for row in lesson_map().itertuples():
        assert f"- [{row.title}](notebooks/{row.file})" in readme, row.file
