"""Who has access to a content item and why; complimentary grants and revocations.

:class:`ContentAccessPanel` sits in the content detail ("Access" tab); it lists the item's
``content_access`` rows (keyset paged: a popular item has thousands) with Grant…/Revoke.
:class:`GrantAccessDialog` picks a person by email or name and an optional expiry date.
Both change data only through named operations (:mod:`data.operations.content_access`),
which announce the item's ``content_access``: the panel reloads from the announcement, the
grant dialog's or anyone else's.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from functools import partial

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations import Changes
from data.operations.content_access import GrantAccess, RevokeAccess
from data.queries.content_access import (
    AccessRow,
    AccessSummary,
    access_summary,
    find_people_to_grant,
    list_access_page,
)
from data.queries.users import UserRow
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.latest import LatestRequest
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.message_line import MessageLine, field_error_label, set_field_error
from widgets.search_box import SearchBox
from widgets.search_results import LiveSearch, SearchResults

SEARCH_RESULTS = 20
SEARCH_HINT = "Type part of an email address or a name."
DEFAULT_DAYS = 30

ACCESS_COLUMNS = (
    Column("Person", value=lambda r: f"{r.full_name} <{r.email}>", width=260),
    Column("Why", value=lambda r: r.access_type, width=110),
    Column("Granted", value=lambda r: r.granted_at, display=format_value, width=120),
    Column("Expires", value=lambda r: r.expires_at,
           display=lambda v: "never" if v is None else format_value(v), width=120),
    Column("State", value=lambda r: "active" if r.active else "ended", width=70),
    Column("Last opened", value=lambda r: r.last_accessed_at, display=format_value,
           width=120),
)


def _summary_text(summary: AccessSummary) -> str:
    parts = [f"{n:,} {kind}" for kind, n in summary.by_type if n]
    text = (f"<b>{summary.active:,}</b> with access: " + " · ".join(parts)) if parts \
        else "Nobody has access yet."
    if summary.expired:
        text += f" ({summary.expired:,} ended)"
    return text


class GrantAccessDialog(QDialog):
    """Give one person complimentary access to one item, permanently or until a date.

    Signals:
        access_granted(object): the new :class:`AccessRow`.
    """

    access_granted = Signal(object)

    def __init__(self, database: Database, content_id: uuid.UUID, title: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Grant complimentary access")
        self.setMinimumWidth(480)
        self._db = database
        self.content_id = content_id
        self._chosen: UserRow | None = None
        self._busy = False  # a grant is in flight: Grant waits for its answer

        self.search = SearchBox("Search people by email or name…")
        self.results = SearchResults(
            limit=SEARCH_RESULTS, none_text="Nobody matches.",
            limit_text=f"First {SEARCH_RESULTS} matches: type more to narrow.",
            count_text=lambda n: f"{n} match{'es' if n != 1 else ''}.", hint=SEARCH_HINT)
        # Return in the box searches (never a dialog button: with Grant disabled, Qt would
        # make Cancel the default and close the dialog) and enters the answers.
        self.live_search = LiveSearch(
            self.search, self.results, self._find_people,
            label=lambda r: f"{r.full_name} <{r.email}>", empty_hint=SEARCH_HINT,
            describe_failure=lambda exc: report_read_failure(self._db, "the people", exc),
            return_enters_results=True)
        self.results.setMinimumHeight(160)
        self.results.currentItemChanged.connect(self._on_results_current_changed)
        self.results_note = self.results.note
        self.chosen = QLabel("Nobody chosen yet.")
        self.user_error = field_error_label()
        self.expires = QCheckBox("&Ends on")
        self.expiry_date = QDateEdit()
        self.expiry_date.setCalendarPopup(True)
        self.expiry_date.setDisplayFormat("yyyy-MM-dd")
        today = QDate.currentDate()
        self.expiry_date.setMinimumDate(today)
        self.expiry_date.setDate(today.addDays(DEFAULT_DAYS))
        self.expiry_date.setEnabled(False)
        self.expires.toggled.connect(self.expiry_date.setEnabled)
        self.expires_error = field_error_label()
        self.message = MessageLine()

        who_label = QLabel("&Person:")
        who_label.setBuddy(self.search)
        expiry = QHBoxLayout()
        expiry.addWidget(self.expires)
        expiry.addWidget(self.expiry_date)
        expiry.addStretch()
        expiry_hint = QLabel("Access lasts through that day. Unticked: permanent.")
        expiry_hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Item", QLabel(f"<b>{html.escape(title)}</b>"))
        form.addRow(who_label, self.search)
        form.addRow("", self.results)
        form.addRow("", self.results_note)
        form.addRow("Chosen", self.chosen)
        form.addRow("", self.user_error)
        form.addRow("Expiry", expiry)
        form.addRow("", expiry_hint)
        form.addRow("", self.expires_error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.grant_button = self.buttons.addButton("&Grant access",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.grant_button.setDefault(True)
        self.grant_button.setEnabled(False)
        database.rights.guard(self.grant_button, "content_access")
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.search.setFocus()

    @property
    def chosen_user(self) -> UserRow | None:
        return self._chosen

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day, or None for permanent access."""
        if not self.expires.isChecked():
            return None
        day = self.expiry_date.date().toPython()
        return dt.datetime.combine(day, dt.time(23, 59, 59))

    def submit(self) -> None:
        user = self._chosen
        if not self.grant_button.isEnabled() or self._busy:
            return
        for label in (self.user_error, self.expires_error):
            label.setVisible(False)
        self.message.say("Granting…")
        self._busy = True
        self.grant_button.setEnabled(False)
        operation = GrantAccess(self.content_id, user.id if user else None, self.expires_at())
        self._db.perform(operation, on_success=self._on_granted, on_failure=self._on_failed,
                         context=self)

    def _find_people(self, text: str, found, failed) -> None:
        self._db.read(find_people_to_grant, text.strip(), SEARCH_RESULTS, on_success=found,
                      on_failure=failed, context=self)

    def _on_results_current_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is None:
            return
        self._chosen = current.data(Qt.ItemDataRole.UserRole)
        self.chosen.setText(f"<b>{html.escape(self._chosen.full_name)}</b> "
                            f"&lt;{html.escape(self._chosen.email)}&gt;")
        self.user_error.setVisible(False)
        self.grant_button.setEnabled(not self._busy)

    def _on_granted(self, row: AccessRow) -> None:
        self._busy = False
        self.message.say("")
        self.access_granted.emit(row)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.grant_button.setEnabled(self._chosen is not None)
        self.message.say("")
        present_error(self._db, exc, fields=self._show_field_errors,
                      banner=self.message.say_error)

    def _show_field_errors(self, errors: dict) -> None:
        for field, label in (("user_id", self.user_error), ("expires_at", self.expires_error)):
            set_field_error(label, errors.get(field, ""))


class ContentAccessPanel(QWidget):
    """The people who have access to one item, why, and until when; Grant… and Revoke.

    Signals:
        access_changed(): a grant or revocation of the item shown was saved (here, in the
            grant dialog, or anywhere else in the app): the list is read again.
    """

    access_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._content_id: uuid.UUID | None = None
        self._title = ""
        self._busy = False  # a revocation is in flight: Revoke waits
        self._latest_summary = LatestRequest()
        self.dialog: GrantAccessDialog | None = None

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.banner = Banner(error=True)
        self.model = LazyTableModel(ACCESS_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.id, parent=self)
        self.view = LazyTableView(self.model)
        watch_list_loads(self.model, self.view, self.banner, database,
                         "who has access")
        self.view.set_placeholder_texts(empty="Nobody has access to this item.")
        self.view.current_row_changed.connect(self._update_buttons)
        self.grant_button = QPushButton("&Grant access…")
        self.revoke_button = QPushButton("Re&voke access…")
        self.grant_button.clicked.connect(self.open_grant_dialog)
        self.revoke_button.clicked.connect(self._on_revoke_clicked)
        database.rights.guard(self.grant_button, "content_access")
        database.rights.guard(self.revoke_button, "content_access")
        buttons = QHBoxLayout()
        buttons.addWidget(self.grant_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        database.changed.connect(self._on_database_changed)
        self.show_content(None)

    @property
    def content_id(self) -> uuid.UUID | None:
        return self._content_id

    def show_content(self, content_id: uuid.UUID | None, title: str = "") -> None:
        """List who has access to ``content_id`` (None: no item chosen)."""
        self._content_id, self._title = content_id, title
        self.banner.setVisible(False)
        if content_id is None:
            self._latest_summary.supersede()
            self.model.set_fetcher(None)
            self.summary.setText("Select an item to see who has access to it.")
        else:
            self.model.set_fetcher(self._db.page_fetcher(list_access_page, content_id))
            self.summary.setText("Counting…")
            on_loaded, on_failed = self._latest_summary.wrap(self._on_summary_loaded,
                                                             self._on_summary_failed)
            self._db.read(access_summary, content_id, on_success=on_loaded,
                          on_failure=on_failed, context=self)
        self._update_buttons()

    def refresh(self) -> None:
        self.show_content(self._content_id, self._title)

    def open_grant_dialog(self) -> GrantAccessDialog | None:
        if self._content_id is None:
            return None
        dialog = GrantAccessDialog(self._db, self._content_id, self._title, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_summary_loaded(self, summary: AccessSummary) -> None:
        self.summary.setText(_summary_text(summary))

    def _on_summary_failed(self, exc: BaseException) -> None:
        self.summary.setText("")
        self.banner.show_message(report_read_failure(self._db, "the access summary", exc))

    def _selected(self) -> AccessRow | None:
        row = self.view.current_row()
        return row if isinstance(row, AccessRow) else None

    def _update_buttons(self, *_args) -> None:
        row = self._selected()
        self.grant_button.setEnabled(self._content_id is not None)
        self.revoke_button.setEnabled(row is not None and row.access_type == "complimentary"
                                      and row.active and not self._busy)
        if row is not None and row.access_type == "purchased":
            self.revoke_button.setToolTip("Purchased access ends when the purchase is "
                                          "refunded.")
        else:
            self.revoke_button.setToolTip("")

    def _on_revoke_clicked(self) -> None:
        row, content_id = self._selected(), self._content_id
        if row is None or content_id is None or self._busy:
            return
        if not confirm(self, title="Revoke access",
                       text=f"Revoke {row.email}'s complimentary access?",
                       informative="They lose access to this item now. You can grant it "
                                   "again later.",
                       confirm_label="Revoke access", destructive=True):
            return
        self._busy = True
        self._update_buttons()
        self._db.perform(RevokeAccess(content_id, row.user_id),
                         on_success=lambda _row: self._on_revoke_answered(),
                         on_failure=partial(self._on_revoke_failed, content_id), context=self)

    def _on_revoke_answered(self) -> None:
        self._busy = False
        self._update_buttons()

    def _on_revoke_failed(self, content_id: uuid.UUID, exc: BaseException) -> None:
        self._on_revoke_answered()
        prefix = "" if content_id == self._content_id else "Access to another item was not " \
                                                           "revoked: "
        present_error(self._db, exc, banner=self.banner, prefix=prefix)

    def _on_database_changed(self, changes: Changes) -> None:
        if self._content_id is not None \
                and changes.touches("content_access", (self._content_id,)):
            self.refresh()
            self.access_changed.emit()
