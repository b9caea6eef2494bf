"""Exports to CSV and xlsx: real files, read back as a spreadsheet would read them."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import text

from data.errors import DomainError
from data.export import (
    ExportColumn,
    ExportStopped,
    ExportWriteError,
    keyset_batches,
    partial_path,
    write_export,
)
from data.queries.users import UserFilter, list_users_page

FORMULAS = ["=1+1", "+cmd", "@x", "-2"]
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Sale:
    name: str
    amount: Decimal | None
    sold_at: dt.datetime | None
    refunded: bool
    quantity: int


COLUMNS = [
    ExportColumn("Name", lambda s: s.name),
    ExportColumn("Amount", lambda s: s.amount),
    ExportColumn("Sold at", lambda s: s.sold_at),
    ExportColumn("Refunded", lambda s: s.refunded),
    ExportColumn("Quantity", lambda s: s.quantity),
]

SALES = [
    Sale("Zoë Ørsted", Decimal("1234567.89"), dt.datetime(2025, 3, 1, 9, 30), False, 3),
    Sale("Li Wei", Decimal("-55.00"), dt.datetime(2025, 3, 2, 23, 5, 1), True, -1),
    Sale("Nobody", None, None, False, 0),
    Sale("Tiny", Decimal("0.10"), dt.datetime(2025, 7, 1, 12, 0), False, 1),
]


def _naive_utc_to_berlin(value: dt.datetime) -> dt.datetime:
    """What a page passes as ``display_time``: the platform's naive UTC shown in a zone."""
    return value.replace(tzinfo=dt.UTC).astimezone(BERLIN)


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def _xlsx_cells(path: Path):
    workbook = load_workbook(path)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows()]
    finally:
        workbook.close()


def _named(*names: str) -> list[Sale]:
    return [Sale(n, None, None, False, 0) for n in names]


# -- round trips -----------------------------------------------------------------------------

def test_csv_round_trip_keeps_every_value_exact(tmp_path):
    target = tmp_path / "sales.csv"
    written = write_export(target, COLUMNS, [SALES[:2], SALES[2:]], total=4,
                           display_time=_naive_utc_to_berlin)
    rows = _csv_rows(target)
    assert written == 4
    assert rows[0] == ["Name", "Amount", "Sold at", "Refunded", "Quantity"]
    assert rows[1] == ["Zoë Ørsted", "1234567.89", "2025-03-01T10:30:00+01:00", "no", "3"]
    # A negative amount the app computed is a number, not defused text; trailing zeros stay.
    assert rows[2] == ["Li Wei", "-55.00", "2025-03-03T00:05:01+01:00", "yes", "-1"]
    assert rows[3] == ["Nobody", "", "", "no", "0"]
    assert rows[4][1:3] == ["0.10", "2025-07-01T14:00:00+02:00"]
    assert len(rows) == 5
    assert not partial_path(target).exists()


def test_xlsx_round_trip_gives_numbers_and_real_times(tmp_path):
    target = tmp_path / "sales.xlsx"
    written = write_export(target, COLUMNS, [SALES], total=None,
                           display_time=_naive_utc_to_berlin, sheet_title="Sales")
    header, *rows = _xlsx_cells(target)
    assert written == 4
    assert [c.value for c in header] == ["Name", "Amount", "Sold at", "Refunded", "Quantity"]
    assert header[0].font.bold
    zoe, li, nobody, tiny = rows
    assert zoe[0].value == "Zoë Ørsted"
    # Money is a number a spreadsheet adds up, shown with the amount's own decimal places.
    assert zoe[1].data_type == "n" and Decimal(str(zoe[1].value)) == Decimal("1234567.89")
    assert zoe[1].number_format == "#,##0.00"
    assert Decimal(str(li[1].value)) == Decimal("-55.00")
    assert Decimal(str(tiny[1].value)) == Decimal("0.10")
    # Wall-clock time in the shown zone, as a date-time cell (Excel has no zones).
    assert zoe[2].value == dt.datetime(2025, 3, 1, 10, 30)
    assert zoe[2].is_date
    assert tiny[2].value == dt.datetime(2025, 7, 1, 14, 0)
    assert [zoe[3].value, li[3].value] == [False, True]
    assert [r[4].value for r in rows] == [3, -1, 0, 1]
    assert [nobody[1].value, nobody[2].value] == [None, None]
    assert not partial_path(target).exists()


def test_xlsx_keeps_digits_a_spreadsheet_number_would_round_as_text(tmp_path):
    target = tmp_path / "big.xlsx"
    columns = [ExportColumn("Amount", lambda r: r[0]), ExportColumn("Id", lambda r: r[1])]
    write_export(target, columns, [[(Decimal("12345678901234567.25"), 98765432109876543)]])
    _, (amount, big_id) = _xlsx_cells(target)
    assert (amount.data_type, amount.value) == ("s", "12345678901234567.25")
    assert (big_id.data_type, big_id.value) == ("s", "98765432109876543")


# -- formula safety ---------------------------------------------------------------------------

def test_csv_defuses_formula_like_text(tmp_path):
    target = tmp_path / "names.csv"
    write_export(target, COLUMNS[:1], [_named(*FORMULAS)])
    cells = [r[0] for r in _csv_rows(target)[1:]]
    assert cells == ["'" + f for f in FORMULAS]
    raw = target.read_text(encoding="utf-8-sig")
    assert "\"'=1+1\"" in raw  # quoted as well


def test_xlsx_stores_formula_like_text_as_exactly_the_text_typed(tmp_path):
    target = tmp_path / "names.xlsx"
    write_export(target, COLUMNS[:1], [_named(*FORMULAS, "#N/A", "=")])
    cells = [r[0] for r in _xlsx_cells(target)[1:]]
    assert [c.value for c in cells] == [*FORMULAS, "#N/A", "="]
    assert all(c.data_type == "s" for c in cells)  # never "f" (formula) nor "e" (error)
    # Excel's own "this is text" mark, so editing the cell does not make it a formula.
    assert all(c.quotePrefix for c in cells[:4])


def test_xlsx_replaces_characters_a_workbook_cannot_hold(tmp_path):
    target = tmp_path / "odd.xlsx"
    write_export(target, COLUMNS[:1], [_named("bell\x07name")])
    assert _xlsx_cells(target)[1][0].value == "bell\ufffdname"


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n"),
               min_size=1, max_size=40))
def test_any_typed_text_comes_back_from_xlsx_as_that_text(typed):
    """Whatever a person can type into a name (tabs and line breaks too) comes back as is;
    a carriage return alone would come back as a line break (XML folds it)."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "any.xlsx"
        write_export(target, COLUMNS[:1], [_named(typed)])
        cell = _xlsx_cells(target)[1][0]
    assert (cell.data_type, cell.value) == ("s", typed)


# -- all or nothing ---------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_stop_midway_leaves_no_file_and_keeps_the_older_one(tmp_path, suffix):
    target = tmp_path / f"sales{suffix}"
    target.write_bytes(b"last week's export")
    fetched = []

    def batches():
        for i in range(5):
            fetched.append(i)
            yield SALES

    progress = []
    with pytest.raises(ExportStopped) as stopped:
        write_export(target, COLUMNS, batches(), total=20,
                     progress=lambda done, total: progress.append((done, total)),
                     should_stop=lambda: len(progress) >= 2)
    assert stopped.value.rows_written == 8
    assert progress == [(4, 20), (8, 20)]
    assert fetched == [0, 1]  # stopping reads no further
    assert target.read_bytes() == b"last week's export"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_error_midway_leaves_no_file_and_keeps_the_older_one(tmp_path, suffix):
    target = tmp_path / f"sales{suffix}"
    target.write_bytes(b"last week's export")

    def batches():
        yield SALES
        raise RuntimeError("connection dropped")

    with pytest.raises(RuntimeError, match="connection dropped"):
        write_export(target, COLUMNS, batches())
    assert target.read_bytes() == b"last week's export"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_stop_before_the_first_batch_writes_nothing(tmp_path):
    target = tmp_path / "sales.csv"
    with pytest.raises(ExportStopped):
        write_export(target, COLUMNS, [SALES], should_stop=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_list_writes_the_header_only(tmp_path):
    target = tmp_path / "none.xlsx"
    assert write_export(target, COLUMNS, []) == 0
    assert [[c.value for c in r] for r in _xlsx_cells(target)] == [
        ["Name", "Amount", "Sold at", "Refunded", "Quantity"]]


def test_an_unknown_ending_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.csv or \.xlsx"):
        write_export(tmp_path / "sales.txt", COLUMNS, [SALES])
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_a_domain_error_naming_the_file(tmp_path):
    target = tmp_path / "gone" / "sales.csv"
    with pytest.raises(ExportWriteError, match="Could not write .*sales.csv") as refused:
        write_export(target, COLUMNS, [SALES])
    assert isinstance(refused.value, DomainError)


# -- keyset batches ---------------------------------------------------------------------------

def test_keyset_batches_walk_the_whole_filtered_list(demo_session_factory, demo_engine):
    flt = UserFilter(role="customer", sort="email")
    with demo_session_factory() as session:
        batches = list(keyset_batches(
            lambda cursor, limit: list_users_page(session, flt, cursor=cursor, limit=limit),
            37))
    emails = [r.email for batch in batches for r in batch]
    with demo_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT email FROM users WHERE role = 'customer' ORDER BY email")).scalars().all()
    assert emails == expected
    assert all(len(b) == 37 for b in batches[:-1]) and 0 < len(batches[-1]) <= 37


def test_keyset_batches_stop_at_an_empty_page():
    pages = {None: ([1, 2], "a"), "a": ([], "b")}
    assert list(keyset_batches(lambda cursor, limit: pages[cursor], 2)) == [[1, 2]]
