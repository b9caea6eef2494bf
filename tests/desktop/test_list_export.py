"""Export… of a whole list: the file, the progress dialog's Cancel, and what the person is told."""

from __future__ import annotations

import csv
import logging
import threading

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from sqlalchemy import text

import desktop.list_export as list_export_module
from data.export import ExportColumn
from data.queries.users import UserFilter, count_users, list_users_page
from desktop.formatting import in_time_zone, set_time_zone
from desktop.list_export import start_export
from widgets.dialogs import ProgressDialog

WAIT = 20_000

USER_COLUMNS = [
    ExportColumn("Id", lambda u: u.id),
    ExportColumn("Email", lambda u: u.email),
    ExportColumn("Name", lambda u: u.full_name),
    ExportColumn("Role", lambda u: u.role),
    ExportColumn("Verified", lambda u: u.verified),
    ExportColumn("Created", lambda u: u.created_at),
    ExportColumn("Deleted", lambda u: u.deleted_at),
]


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def errors_shown(monkeypatch):
    """What show_error would have put in front of the person (its box is modal)."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(list_export_module, "show_error",
                        lambda _parent, title, message, details="": shown.append((title, message)))
    return shown


def _export_users(parent, database, path, **kwargs):
    kwargs.setdefault("query_args", (UserFilter(),))
    return start_export(path, parent, database, title="Export users", columns=USER_COLUMNS,
                        page_query=kwargs.pop("page_query", list_users_page),
                        count_query=count_users, **kwargs)


def _wait_done(qtbot, handle):
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)


def _message_box_text(parent) -> str:
    boxes = parent.findChildren(QMessageBox)
    assert len(boxes) == 1
    return boxes[0].text()


def test_all_users_go_to_xlsx_not_only_the_loaded_rows(qtbot, parent, demo_database,
                                                       demo_session_factory, tmp_path,
                                                       errors_shown):
    target = tmp_path / "users.xlsx"
    handle = _export_users(parent, demo_database, target, batch_size=40)
    _wait_done(qtbot, handle)
    workbook = load_workbook(target)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    with demo_session_factory() as session:
        expected = count_users(session, UserFilter())
    assert expected.exact and expected.value > 40  # more than one page
    assert rows[0] == ("Id", "Email", "Name", "Role", "Verified", "Created", "Deleted")
    assert len(rows) - 1 == expected.value
    assert len({r[0] for r in rows[1:]}) == expected.value  # every user once
    assert sheet.title == "Users"
    assert errors_shown == []
    assert _message_box_text(parent) == f"Exported {expected.value:,} rows to {target}."
    assert not (tmp_path / "users.xlsx.part").exists()
    qtbot.waitUntil(lambda: not parent.findChildren(ProgressDialog), timeout=WAIT)


def test_the_filter_decides_the_rows_and_times_read_as_on_screen(qtbot, parent, demo_database,
                                                                 demo_engine, tmp_path):
    set_time_zone("Asia/Tokyo")
    target = tmp_path / "customers.csv"
    handle = _export_users(parent, demo_database, target,
                           query_args=(UserFilter(role="customer", sort="email"),))
    _wait_done(qtbot, handle)
    with target.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    with demo_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT id::text, created_at FROM users WHERE role = 'customer' ORDER BY email"
        )).all()
    assert [r[0] for r in rows] == [e[0] for e in expected]
    assert {r[3] for r in rows} == {"customer"}
    assert rows[0][5] == in_time_zone(expected[0][1]).isoformat()
    assert rows[0][5].endswith("+09:00")


def test_cancel_in_the_progress_dialog_leaves_no_file_and_keeps_the_older_one(
        qtbot, parent, demo_database, tmp_path, errors_shown):
    """The export is held at its second page until the test has pressed Cancel."""
    target = tmp_path / "users.xlsx"
    target.write_bytes(b"last week's export")
    release = threading.Event()
    pages_asked: list[object] = []

    def held_page(session, flt, cursor, limit):
        pages_asked.append(cursor)
        if len(pages_asked) > 1:
            release.wait(10)
        return list_users_page(session, flt, cursor=cursor, limit=limit)

    handle = _export_users(parent, demo_database, target, page_query=held_page,
                           batch_size=50)
    try:
        dialog = parent.findChild(ProgressDialog)
        qtbot.waitUntil(dialog.isVisible, timeout=WAIT)
        cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
        assert dialog.labelText() == "Cancelling…"
    finally:
        release.set()
    _wait_done(qtbot, handle)
    assert handle.was_cancelled
    assert target.read_bytes() == b"last week's export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["users.xlsx"]
    assert len(pages_asked) == 2  # nothing more was read once cancelled
    assert errors_shown == []
    assert parent.findChildren(QMessageBox) == []


def test_a_folder_that_is_gone_is_said_in_a_sentence(qtbot, parent, demo_database, tmp_path,
                                                     errors_shown):
    target = tmp_path / "gone" / "users.csv"
    handle = _export_users(parent, demo_database, target)
    _wait_done(qtbot, handle)
    assert errors_shown == [("Export users failed",
                             f"Could not write {target}: No such file or directory.")]
    assert parent.findChildren(QMessageBox) == []


def test_an_unexpected_error_says_so_and_is_logged(qtbot, parent, demo_database, tmp_path,
                                                   errors_shown, caplog):
    def broken_page(session, flt, cursor, limit):
        raise RuntimeError("bug in the page query")

    target = tmp_path / "users.csv"
    with caplog.at_level(logging.ERROR, logger="platform_admin"):
        handle = _export_users(parent, demo_database, target, page_query=broken_page)
        _wait_done(qtbot, handle)
    ((title, message),) = errors_shown
    assert title == "Export users failed"
    assert message.startswith(f"The export to {target} failed: an unexpected error")
    assert "log" in message
    assert any(r.exc_info and "bug in the page query" in str(r.exc_info[1])
               for r in caplog.records)
    assert list(tmp_path.iterdir()) == []


def test_a_file_name_without_a_known_ending_is_refused_before_anything_runs(parent,
                                                                           demo_database,
                                                                           tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.xlsx"):
        _export_users(parent, demo_database, tmp_path / "users.txt")
    assert parent.findChildren(ProgressDialog) == []


def test_export_list_asks_for_the_file_and_adds_the_chosen_format_s_ending(
        qtbot, parent, demo_database, tmp_path, monkeypatch):
    asked = []

    def save_dialog(_parent, caption, name, filters, selected):
        asked.append((caption, name, filters, selected))
        return str(tmp_path / "everyone"), "Excel (*.xlsx)"

    monkeypatch.setattr(list_export_module.QFileDialog, "getSaveFileName", save_dialog)
    handle = list_export_module.export_list(
        parent, demo_database, title="Export users", default_name="users.csv",
        columns=USER_COLUMNS, page_query=list_users_page, query_args=(UserFilter(),))
    _wait_done(qtbot, handle)
    assert asked == [("Export users", "users.csv", "CSV (*.csv);;Excel (*.xlsx)", "CSV (*.csv)")]
    assert (tmp_path / "everyone.xlsx").exists()


def test_closing_the_file_dialog_exports_nothing(parent, demo_database, monkeypatch):
    monkeypatch.setattr(list_export_module.QFileDialog, "getSaveFileName",
                        lambda *_args: ("", ""))
    assert list_export_module.export_list(
        parent, demo_database, title="Export users", default_name="users.xlsx",
        columns=USER_COLUMNS, page_query=list_users_page) is None
    assert parent.findChildren(ProgressDialog) == []


def test_saves_after_an_export_are_not_refused_as_read_only(qtbot, parent, demo_database,
                                                           demo_engine, tmp_path):
    """The export reads in a read-only snapshot; the pooled connections it used must write
    again afterwards (FIFO pool: a few writes in a row reuse every idle connection)."""
    handle = _export_users(parent, demo_database, tmp_path / "users.csv")
    _wait_done(qtbot, handle)
    with demo_engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM users ORDER BY email LIMIT 1")).scalar()
    outcomes: list[object] = []
    for n in range(6):
        demo_database.write(
            lambda s, _actor, n=n: s.execute(
                text("UPDATE users SET full_name = :n WHERE id = :i"),
                {"n": f"Saved {n}", "i": user_id}).rowcount,
            on_success=outcomes.append, on_failure=outcomes.append)
    qtbot.waitUntil(lambda: len(outcomes) == 6, timeout=WAIT)
    assert outcomes == [1] * 6
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": user_id}).scalar() == "Saved 5"
