"""helpers.catalog_views: the short views of the error catalog that lesson 05 shows."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.catalog import catalog, explain
from helpers.catalog_views import counts, explain_table, page, page_count

ROWS = pd.DataFrame({"layer": list("aabbbc") + ["c"], "code": ["x", "y", "x", "x", "z", "x", "x"],
                     "n": range(7)})


def test_pages_cover_every_row_once_in_order():
    pages = [page(ROWS, number, size=3) for number in range(1, page_count(ROWS, 3) + 1)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert pd.concat(pages)["n"].tolist() == ROWS["n"].tolist()


def test_a_page_that_does_not_exist_says_how_many_there_are():
    with pytest.raises(ValueError, match="pages 1 to 3"):
        page(ROWS, 4, size=3)
    with pytest.raises(ValueError):
        page(ROWS, 0, size=3)
    with pytest.raises(ValueError):
        page_count(ROWS, 0)


def test_an_empty_frame_is_one_empty_page():
    empty = ROWS.iloc[:0]
    assert page_count(empty) == 1
    assert page(empty).empty


def test_counts_add_up_and_put_the_largest_first_within_a_group():
    table = counts(ROWS, "layer", "code")
    assert table["entries"].sum() == len(ROWS)
    assert table.loc[("b", "x"), "entries"] == 2
    assert table.loc["b"].index.tolist() == ["x", "z"]
    with pytest.raises(ValueError):
        counts(ROWS)


def test_counts_of_the_catalog_match_its_rows():
    frame = catalog()
    table = counts(frame, "layer")
    assert table["entries"].to_dict() == frame["layer"].value_counts().to_dict()


def test_explain_table_has_one_row_per_input_with_the_entry_explain_finds():
    inputs = {"OAuth body": {"error": "invalid_grant", "error_description": "Wrong email or password."},
              "GraphQL error": {"message": "User is absent", "code": "UserNotFoundError"}}
    table = explain_table(inputs)
    assert table["input"].tolist() == list(inputs)
    assert table["entry"].tolist() == [explain(value).id for value in inputs.values()]
    assert table["Python type"].tolist() == ["dict", "dict"]
    assert set(table["layer"]) == {"identity provider", "API"}
