"""Views of the error catalog short enough to read in a lesson (lesson 05): counts, one page of rows at a
time, and what :func:`helpers.catalog.explain` makes of several errors side by side."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .catalog import explain

PAGE_SIZE = 15


def page_count(frame: pd.DataFrame, size: int = PAGE_SIZE) -> int:
    """How many pages of ``size`` rows ``frame`` fills (an empty frame is one empty page)."""
    if size < 1:
        raise ValueError("a page holds at least one row")
    return max(1, math.ceil(len(frame) / size))


def page(frame: pd.DataFrame, number: int = 1, size: int = PAGE_SIZE) -> pd.DataFrame:
    """Page ``number`` (from 1) of ``frame``, ``size`` rows a page; a page that does not exist raises
    ``ValueError`` naming how many there are."""
    pages = page_count(frame, size)
    if not 1 <= number <= pages:
        raise ValueError(f"there is no page {number}: pages 1 to {pages} of {size} rows")
    start = (number - 1) * size
    return frame.iloc[start:start + size]


def counts(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """How many rows share each combination of values of ``columns`` (column ``entries``), largest first
    within each value of the first column."""
    if not columns:
        raise ValueError("name at least one column to count by")
    sizes = frame.groupby(list(columns)).size().rename("entries").reset_index()
    ordered = sizes.sort_values([columns[0], "entries"], ascending=[True, False], kind="stable")
    return ordered.set_index(list(columns))


def explain_table(errors: Mapping[str, Any]) -> pd.DataFrame:
    """One row per labelled error: its Python type and the catalog entry ``explain()`` finds for it."""
    rows = []
    for label, error in errors.items():
        entry = explain(error)
        rows.append({"input": label, "Python type": type(error).__name__, "entry": entry.id,
                     "code": entry.code, "layer": entry.layer})
    return pd.DataFrame(rows, columns=["input", "Python type", "entry", "code", "layer"])
