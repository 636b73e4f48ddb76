"""Measure the shape of every lesson (not the solutions): does it fit one sitting, and can a learner open
everything it cites?

Usage: .venv/bin/python tools/lesson_shape.py [--tighten-budget]

Prints one table, a row per lesson:
- ``time``: the minutes the lesson's first cell states (``**Time:** about N minutes``), ``-`` if none;
  ``est.``: what the lesson's length suggests (``estimate_minutes``: prose at 200 words a minute plus a
  minute per code cell to read, run and read its output);
- ``words``: prose words of the markdown cells, without code or mermaid blocks, link targets or the
  navigation cell;
- ``output``: the longest output of one code cell, in lines (a table counts its rows);
- ``code``: the longest code cell, in lines;
- ``refs``: references in markdown or code a learner cannot open (the developers' ``shared/`` folder, a bare
  case id such as SIG-08 that is not a link, a link to a repository file or anchor that does not exist);
  ``out refs``: the same in the saved outputs.

The limits a lesson should meet are ``LIMITS``. Lessons that do not meet one yet have their measured value in
``tests/lesson_shape_budget.json``, which ``tests/test_lesson_shape.py`` uses as a ratchet; ``--tighten-budget``
lowers a budget to today's measurement (it never raises one: raising is a deliberate hand edit).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUDGET_FILE = ROOT / "tests" / "lesson_shape_budget.json"
LESSON_FILE = re.compile(r"\d\d-[a-z0-9-]+\.ipynb")
NAVIGATION_TAG = "navigation"

LIMITS = {"words": 2500, "output": 40, "code": 25, "out_refs": 0}
"""Per lesson: prose words, lines of one cell's output, lines of one code cell, unopenable refs in outputs."""
WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 1

TIME_ESTIMATE = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+min", re.IGNORECASE)
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)\)")
HTML_TAG = re.compile(r"<[^>]+>")
SHARED = re.compile(r"\bshared[ /]reference|(?<![\w.-])(?:\.\./)*shared/")
CASE_ID = re.compile(r"\b(?:SIG|HDR|CLM|ENC|TRN|JWKS|IDP)-\d{2}\b")
LINKED_CASE_ID = re.compile(r"\[(?:SIG|HDR|CLM|ENC|TRN|JWKS|IDP)-\d{2}\]\([^)]*\)")
ANCHOR_ID = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
HTML_ROW = re.compile(r"<tr[\s>]")


@dataclass
class Shape:
    """The measurements of one lesson."""

    lesson: str
    time: int | None      # minutes stated in the first cell
    estimate: int         # minutes the length suggests
    words: int
    output: int           # lines of the longest output of one cell
    code: int             # lines of the longest code cell
    refs: list[str]       # unopenable references in markdown and code
    out_refs: list[str]   # unopenable references in outputs


# ------------------------------------------------------------------------------------------ measuring

def stated_minutes(first_cell: str) -> int | None:
    """The minutes a lesson's first cell states as ``**Time:** about N minutes``, or None."""
    match = TIME_ESTIMATE.search(first_cell)
    return int(match.group(1)) if match else None


def prose(markdown: str) -> str:
    """The words a learner reads in a markdown cell: no fenced blocks, link text without its target, no tags."""
    text = FENCE.sub(" ", markdown)
    text = LINK.sub(lambda m: m.group(1), text)
    return unescape(HTML_TAG.sub(" ", text))


def word_count(markdown: str) -> int:
    """Prose words of one markdown cell (markup characters alone are not words)."""
    return sum(1 for token in prose(markdown).split() if re.search(r"\w", token))


def output_lines(output: dict) -> int:
    """Lines one output shows: its text, or the rows of an HTML table, whichever is longer."""
    if output.get("output_type") == "stream":
        return len(_text(output.get("text", "")).splitlines())
    if output.get("output_type") == "error":
        return len(output.get("traceback", []))
    data = output.get("data", {})
    plain = len(_text(data.get("text/plain", "")).splitlines())
    rows = len(HTML_ROW.findall(_text(data.get("text/html", ""))))
    return max(plain, rows)


def cell_output_lines(cell: dict) -> int:
    """Lines of a code cell's whole output area (every output of the cell, one after the other)."""
    return sum(output_lines(output) for output in cell.get("outputs", []))


def code_lines(cell: dict) -> int:
    """Lines of a code cell's source, trailing blank lines left out."""
    return len(_text(cell["source"]).rstrip().splitlines())


def estimate_minutes(words: int, code_cells: int) -> int:
    """Minutes to read the prose and run and read each code cell, rounded up to five."""
    minutes = words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL
    return max(5, -(-int(minutes + 0.999) // 5) * 5)


def unopenable(text: str, base: Path, root: Path = ROOT) -> list[str]:
    """References in ``text`` a learner cannot open: the developers' shared folder, a case id that is not a
    link, or a relative link (from ``base``, a folder) to a repository file or anchor that does not exist."""
    found = [m.group(0) for m in SHARED.finditer(text)]
    found += CASE_ID.findall(LINKED_CASE_ID.sub(" ", text))
    return found + missing_links(text, base, root)


def missing_links(text: str, base: Path, root: Path = ROOT) -> list[str]:
    """Relative links of a markdown text (from the folder ``base``) to a file outside ``root``, a file that does
    not exist, or an anchor that a markdown file of the repository does not define."""
    found = []
    for match in LINK.finditer(text):
        target = match.group(2)
        if not target or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#", target):
            continue
        path, _, anchor = target.partition("#")
        file = (base / path).resolve()
        if not file.is_relative_to(root) or not file.exists():
            found.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            found.append(target)
    return found


def anchors(markdown_file: Path) -> set[str]:
    """The explicit ``<a id=...>`` anchors of a markdown file."""
    return set(ANCHOR_ID.findall(markdown_file.read_text(encoding="utf-8")))


def measure(path: Path) -> Shape:
    """The shape of one lesson notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    markdown = [_text(c["source"]) for c in cells if c["cell_type"] == "markdown"
                and NAVIGATION_TAG not in c.get("metadata", {}).get("tags", [])]
    code = [c for c in cells if c["cell_type"] == "code"]
    words = sum(word_count(text) for text in markdown)
    sources = markdown + [_text(c["source"]) for c in code]
    outputs = [json.dumps(o, ensure_ascii=False) for c in code for o in c.get("outputs", [])]
    return Shape(
        lesson=path.name,
        time=stated_minutes(_text(cells[0]["source"])) if cells else None,
        estimate=estimate_minutes(words, len(code)),
        words=words,
        output=max((cell_output_lines(c) for c in code), default=0),
        code=max((code_lines(c) for c in code), default=0),
        refs=[ref for text in sources for ref in unopenable(text, path.parent)],
        out_refs=[m.group(0) for text in outputs for m in SHARED.finditer(text)],
    )


def lessons(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every lesson notebook (``NN-title.ipynb``), in order; solutions are not lessons."""
    return [p for p in sorted(folder.glob("*.ipynb")) if LESSON_FILE.fullmatch(p.name)]


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


# ------------------------------------------------------------------------------------------- the budget

def over_limits(shape: Shape) -> dict[str, int]:
    """The measurements of a lesson that exceed ``LIMITS``."""
    values = {"words": shape.words, "output": shape.output, "code": shape.code, "out_refs": len(shape.out_refs)}
    return {name: value for name, value in values.items() if value > LIMITS[name]}


def load_budget(path: Path = BUDGET_FILE) -> dict[str, dict[str, int]]:
    """Per lesson, the highest value allowed for each limit it does not meet yet."""
    return json.loads(path.read_text(encoding="utf-8"))["lessons"] if path.exists() else {}


def allowed(budget: dict[str, dict[str, int]], lesson: str, name: str) -> int:
    """The most a lesson may measure: its budget if it has one, else the limit."""
    return max(LIMITS[name], budget.get(lesson, {}).get(name, LIMITS[name]))


def tightened(budget: dict[str, dict[str, int]], shapes: list[Shape]) -> dict[str, dict[str, int]]:
    """The budget lowered to today's measurements: met limits drop out, and a value is never raised nor added
    (a lesson over a limit without a budget fails the test until someone decides)."""
    result: dict[str, dict[str, int]] = {}
    for shape in shapes:
        for name, value in over_limits(shape).items():
            if name in budget.get(shape.lesson, {}):
                result.setdefault(shape.lesson, {})[name] = min(value, budget[shape.lesson][name])
    return result


def write_budget(budget: dict[str, dict[str, int]], path: Path = BUDGET_FILE) -> None:
    note = ("Ratchet for tests/test_lesson_shape.py: per lesson, the highest value allowed for a limit of "
            "tools/lesson_shape.LIMITS it does not meet yet. Lower it as lessons improve "
            "(tools/lesson_shape.py --tighten-budget); never raise it to make a test pass.")
    path.write_text(json.dumps({"note": note, "limits": LIMITS, "lessons": budget}, indent=1) + "\n",
                    encoding="utf-8")


# ---------------------------------------------------------------------------------------------- report

def table(shapes: list[Shape]) -> str:
    """The measurements as one text table; values over their limit are marked with ``!``."""
    header = f"{'lesson':<46} {'time':>5} {'est.':>5} {'words':>7} {'output':>7} {'code':>5} {'refs':>5} {'out refs':>9}"
    lines = [header, "-" * len(header)]
    for s in shapes:
        over = over_limits(s)
        mark = lambda name, value: f"{value}{'!' if name in over else ''}"  # noqa: E731
        lines.append(f"{s.lesson:<46} {s.time if s.time is not None else '-':>5} {s.estimate:>5} "
                     f"{mark('words', s.words):>7} {mark('output', s.output):>7} {mark('code', s.code):>5} "
                     f"{len(s.refs):>5} {mark('out_refs', len(s.out_refs)):>9}")
    lines.append(f"limits: words <= {LIMITS['words']}, output <= {LIMITS['output']} lines, "
                 f"code <= {LIMITS['code']} lines, refs 0, a stated time in every lesson")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tighten-budget", action="store_true", help=f"lower {BUDGET_FILE.name} to today's values")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    shapes = [measure(path) for path in lessons()]
    print(json.dumps([asdict(s) for s in shapes], indent=1) if args.json else table(shapes))
    for s in shapes:
        for ref in s.refs:
            print(f"{s.lesson}: a learner cannot open {ref!r}", file=sys.stderr)
    if args.tighten_budget:
        write_budget(tightened(load_budget(), shapes))
        print(f"wrote {BUDGET_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
