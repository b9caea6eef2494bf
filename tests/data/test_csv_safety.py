"""CSV cells: formula-like text is defused, numbers the app computed stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from data.csv_safety import FORMULA_TRIGGERS, safe_cell, safe_csv_writer


def _round_trip(row):
    buffer = io.StringIO()
    safe_csv_writer(buffer).writerow(row)
    return buffer.getvalue(), next(csv.reader(io.StringIO(buffer.getvalue())))


def test_each_trigger_gets_a_quote_and_the_cell_is_quoted():
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        raw, (cell,) = _round_trip([f"{trigger}1+1"])
        assert cell == f"'{trigger}1+1"
        assert raw.startswith('"')


def test_numbers_the_app_wrote_stay_numbers_text_stays_text():
    raw, cells = _round_trip([Decimal("-55.00"), -3, "-55.00", "Nina", None])
    assert raw.strip() == '-55.00,-3,"\'-55.00","Nina",""'
    assert cells == ["-55.00", "-3", "'-55.00", "Nina", ""]


@given(st.text())
def test_no_text_cell_reads_back_as_a_formula(value):
    cell = safe_cell(value)
    assert not cell.startswith(FORMULA_TRIGGERS)
    assert cell in (value, "'" + value)
