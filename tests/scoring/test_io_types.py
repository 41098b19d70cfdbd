"""read_table types columns by its written rule, never by a guess that changes a value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from scoring.io import read_table


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_long_integers_beside_a_blank_read_digit_for_digit(tmp_path: Path) -> None:
    # An 18-digit dossier number and a blank: pandas alone reads 123456789012345678 as the
    # float 1.2345678901234568e17, another number.
    path = _csv(tmp_path, "dossier,item\n123456789012345678,4\n,5\n900719925474099311,\n")
    frame = read_table(path)
    assert list(frame["dossier"]) == ["123456789012345678", pd.NA, "900719925474099311"]
    assert frame["item"].dtype == "float64"


def test_integers_a_float_holds_exactly_stay_numbers(tmp_path: Path) -> None:
    frame = read_table(_csv(tmp_path, "weight,code\n9007199254740991,1\n,-2\n1.5,3\n"))
    assert frame["weight"].dtype == "float64" and frame["weight"][0] == 2**53 - 1
    assert frame["code"].dtype == "int64" and list(frame["code"]) == [1, -2, 3]


def test_nothing_becomes_a_date(tmp_path: Path) -> None:
    frame = read_table(_csv(tmp_path, "when,item\n2026-03-15 17:00:00,1\n15/03/2026,2\n"))
    assert list(frame["when"]) == ["2026-03-15 17:00:00", "15/03/2026"]


def test_xlsx_cells_keep_their_type_and_text_columns_read_dates_as_days(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["submitted_on", "code", "big", "item", "note"])
    sheet.append([dt.datetime(2026, 3, 15), "001", "12345678901234567890", 4, "-3.5"])
    sheet.append([dt.date(2026, 3, 16), "7", None, "5", "x"])
    path = tmp_path / "data.xlsx"
    book.save(path)
    frame = read_table(path, text_columns=["code"])
    assert list(frame["submitted_on"]) == ["2026-03-15", "2026-03-16"]
    assert list(frame["code"]) == ["001", "7"]
    assert frame["big"][0] == "12345678901234567890" and pd.isna(frame["big"][1])
    assert frame["item"].dtype == "int64" and list(frame["item"]) == [4, 5]
    assert list(frame["note"]) == ["-3.5", "x"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.integers(min_value=-(10**25), max_value=10**25)),
        min_size=1,
        max_size=8,
    )
)
def test_an_integer_column_reads_as_its_values_or_as_their_digits(
    tmp_path_factory: object, values: list[int | None]
) -> None:
    directory = tmp_path_factory.mktemp("io")  # type: ignore[attr-defined]
    body = "".join(f"{'' if v is None else v},1\n" for v in values)
    column = read_table(_csv(directory, "n,item\n" + body))["n"]
    if pd.api.types.is_numeric_dtype(column.dtype):
        for got, wanted in zip(column, values, strict=True):
            assert pd.isna(got) if wanted is None else int(got) == wanted and got == wanted
    else:
        assert [None if pd.isna(v) else int(v) for v in column] == values
