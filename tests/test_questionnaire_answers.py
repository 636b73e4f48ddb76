"""Every questionnaire question of every lesson has its answer in the lesson's solutions notebook.

An answer is a markdown cell that repeats the question in bold (``**N. the question**``), which must read as the
lesson's question reads today (a question that changed needs its answer revisited), or item N of a
``## Questionnaire answers`` list.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.lessons import NOTEBOOKS, lesson_map

BOLD_ANSWER = re.compile(r"\*\*(\d+)\. (.+?)\*\*\s*\n", re.DOTALL)


def markdown_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def questions(lesson: Path) -> dict[str, str]:
    """Question number -> text, from the lesson's ``## Questionnaire`` section (up to a blank line after the list)."""
    return next((questions_from(text) for text in markdown_cells(lesson) if "## Questionnaire" in text), {})


def answers(solutions: Path) -> dict[str, str | None]:
    """Question number -> the question as the answer repeats it (None: an item of an answers list)."""
    found: dict[str, str | None] = {}
    for text in markdown_cells(solutions):
        bold = BOLD_ANSWER.match(text)
        if bold:
            found[bold.group(1)] = bold.group(2)
        elif text.startswith("## Questionnaire answers"):
            found.update({n: None for n in re.findall(r"^(\d+)\. ", text, re.MULTILINE)})
    return found


LESSONS = list(lesson_map()["file"])


def test_every_lesson_is_checked():
    assert len(LESSONS) >= 12 and all(questions(NOTEBOOKS / name) for name in LESSONS)


@pytest.mark.parametrize("name", LESSONS)
def test_every_question_has_its_answer_in_the_solutions(name):
    asked = questions(NOTEBOOKS / name)
    answered = answers(NOTEBOOKS / "solutions" / f"{name[:-6]}-solutions.ipynb")
    assert sorted(asked, key=int) == sorted(set(asked) & set(answered), key=int), \
        f"questions without an answer: {sorted(set(asked) - set(answered), key=int)}"
    for number, repeated in answered.items():
        if repeated is not None and number in asked:
            assert same(repeated, asked[number]), f"answer {number} repeats an older wording of its question"


def test_the_question_parser_stops_at_further_research_and_the_end_of_the_list():
    text = "## Questionnaire\n\n1. One\n   more.\n2. Two?\n\n**Further research:** not a question."
    assert questions_from(text) == {"1": "One\n   more.", "2": "Two?"}


def questions_from(text: str) -> dict[str, str]:
    """The numbered items after ``## Questionnaire``, each up to its first blank line, the section up to the next."""
    section = text.split("## Questionnaire", 1)[1].split("\n## ", 1)[0]
    items = re.split(r"^(\d+)\. ", section, flags=re.MULTILINE)[1:]
    return {n: body.split("\n\n", 1)[0].strip() for n, body in zip(items[::2], items[1::2])}
