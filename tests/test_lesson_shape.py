"""tools/lesson_shape.py: its measuring functions on small made-up notebooks, then the real lessons.

The real lessons must all state a time and cite nothing a learner cannot open. For the limits not every
lesson meets yet (tools/lesson_shape.LIMITS: 2,500 prose words, 40-line outputs, 25-line code cells, no
developers' references in outputs), this is a ratchet: tests/lesson_shape_budget.json records each lesson's
measured value where it is over a limit, and no lesson may exceed its budget (or the limit, where it has
none). Improvements lower the budget (``tools/lesson_shape.py --tighten-budget``); nothing may raise it
without a deliberate edit of that file.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import lesson_shape as shape

ROOT = Path(__file__).resolve().parents[1]


def notebook(tmp_path: Path, *cells: dict, name: str = "01-made-up.ipynb") -> Path:
    """A minimal notebook file made of the given cells."""
    path = tmp_path / name
    path.write_text(json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def md(text: str, tags: tuple[str, ...] = ()) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": text.splitlines(keepends=True)}


def code(text: str, *outputs: dict) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": list(outputs),
            "source": text.splitlines(keepends=True)}


def stream(lines: int) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": [f"line {i}\n" for i in range(lines)]}


# ------------------------------------------------------------------------------------------ measuring

def test_the_stated_time_is_read_from_the_first_cell():
    assert shape.stated_minutes("# 01 · x\n\n**Time:** about 35 minutes to read and run.") == 35
    assert shape.stated_minutes("# 01 · x\n\n**Prerequisites:** none.") is None


def test_prose_words_leave_out_code_and_diagram_blocks_and_link_targets():
    text = ("Two words [linked here](https://example.org/a/very/long/path) end.\n\n"
            "```mermaid\nsequenceDiagram\n    A->>B: many words that are not prose\n```\n"
            "```python\nprint('not prose either')\n```\n| a | b |\n|---|---|\n")
    assert shape.word_count(text) == 7   # Two words linked here end. a b


def test_the_navigation_cell_and_code_are_not_prose(tmp_path):
    path = notebook(tmp_path, md("# 01 · T\n\none two three"), code("x = 1  # four five six"),
                    md("[< 00](00-a.ipynb) | [contents](00-a.ipynb)", tags=("navigation",)))
    assert shape.measure(path).words == 5   # "#" is markup, not a word


def test_an_output_counts_its_text_lines_or_its_table_rows_whichever_is_longer():
    table = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
             "data": {"text/plain": ["   a\n", "0  1\n"], "text/html": ["<table>" + "<tr><td>1</td></tr>" * 12 + "</table>"]}}
    assert shape.output_lines(table) == 12
    assert shape.output_lines(stream(3)) == 3
    assert shape.output_lines({"output_type": "display_data", "metadata": {}, "data": {"image/png": "AAAA"}}) == 0


def test_the_longest_output_is_a_whole_cell_and_the_longest_code_ignores_trailing_blank_lines(tmp_path):
    path = notebook(tmp_path, md("# 01 · T"), code("a = 1\nb = 2\n\n\n", stream(30), stream(15)),
                    code("c = 3", stream(44)))
    measured = shape.measure(path)
    assert (measured.output, measured.code) == (45, 2)


def test_the_estimate_reads_200_words_a_minute_plus_a_minute_per_code_cell_rounded_up_to_five():
    assert shape.estimate_minutes(words=2000, code_cells=12) == 25   # 10 + 12 = 22 -> 25
    assert shape.estimate_minutes(words=100, code_cells=0) == 5
    assert shape.estimate_minutes(words=2000, code_cells=10) == 20


def test_references_a_learner_cannot_open_are_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "sources.md").write_text('<a id="sig-08"></a>\n### SIG-08\n')
    lessons = tmp_path / "notebooks"
    lessons.mkdir()
    text = ("(shared reference `jwt-security-cases.md` §1) and ../shared/seed/forum-thread.txt; case SIG-10; "
            "[SIG-08](../docs/sources.md#sig-08) is fine, [SIG-07](../docs/sources.md#sig-07) has no anchor, "
            "[gone](../docs/nowhere.md), [outside](../../etc/passwd), [web](https://example.org/x#y), [here](#top)")
    found = shape.unopenable(text, lessons, root=tmp_path)
    assert found == ["shared reference", "../shared/", "SIG-10", "../docs/sources.md#sig-07", "../docs/nowhere.md",
                     "../../etc/passwd"]


def test_outputs_are_searched_for_the_developers_references(tmp_path):
    cell = code("explain(x)", {"output_type": "stream", "name": "stdout",
                               "text": ["see: RFC 6749; shared reference auth0-protocol.md §3.2\n"]})
    measured = shape.measure(notebook(tmp_path, md("# 01 · T"), cell))
    assert (measured.refs, measured.out_refs) == ([], ["shared reference"])


def test_tightening_the_budget_only_lowers_it_and_drops_the_limits_now_met(tmp_path):
    path = notebook(tmp_path, md("# 01 · T"), code("\n".join(["x = 1"] * 30), stream(50)))
    measured = shape.measure(path)                                     # code 30, output 50: both over
    budget = {measured.lesson: {"code": 35, "output": 45, "words": 3000}}
    assert shape.tightened(budget, [measured]) == {measured.lesson: {"code": 30, "output": 45}}
    assert shape.tightened({}, [measured]) == {}                       # never added by the tool
    assert shape.allowed(budget, measured.lesson, "words") == 3000
    assert shape.allowed({}, measured.lesson, "code") == shape.LIMITS["code"]


# --------------------------------------------------------------------------------------- the real lessons

LESSONS = shape.lessons()
SHAPES = {path.name: shape.measure(path) for path in LESSONS}
BUDGET = shape.load_budget()


def test_the_lessons_are_measured_and_solutions_are_not():
    assert len(LESSONS) >= 11 and all("solutions" not in path.parts for path in LESSONS)


@pytest.mark.parametrize("name", SHAPES)
def test_every_lesson_states_its_time(name):
    assert SHAPES[name].time is not None, "add '**Time:** about N minutes' to the first cell"


@pytest.mark.parametrize("name", SHAPES)
def test_every_lesson_cites_only_what_a_learner_can_open(name):
    assert SHAPES[name].refs == []


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("limit", sorted(shape.LIMITS))
def test_no_lesson_grows_past_its_budget(name, limit):
    measured = SHAPES[name]
    value = {"words": measured.words, "output": measured.output, "code": measured.code,
             "out_refs": len(measured.out_refs)}[limit]
    assert value <= shape.allowed(BUDGET, name, limit), f"{limit}: {value} (see tools/lesson_shape.py)"


def test_the_budget_names_only_lessons_that_exist_and_limits_that_are_known():
    assert set(BUDGET) <= set(SHAPES)
    assert all(set(limits) <= set(shape.LIMITS) for limits in BUDGET.values())


@pytest.mark.parametrize("page", ["sources.md", "glossary.md"])
def test_the_docs_pages_link_only_to_what_exists(page):
    """The pages define the case ids, so only their links are checked: files and anchors."""
    path = ROOT / "docs" / page
    assert shape.missing_links(path.read_text(encoding="utf-8"), path.parent) == []
