"""The Referral rewards page's dialogs: a small form that runs one operation (a reason to
qualify or void, a review note, a new code, an expiry), and the referrer's view with Grant.

A grant's request id is made when the referrer's view opens (one per reward): a double click
or a retry carries it, so the service answers the first grant again instead of a second.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.operations import Operation
from data.operations.referrals import GrantReward
from data.queries.referrals import ReferrerSummary, get_referrer_summary, search_users
from data.services.referral_grants import what_granting_does
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from widgets.actions import Confirmation, confirmed
from widgets.banner import Banner
from widgets.latest import LatestRequest
from widgets.record_form import FieldSpec, RecordForm
from widgets.record_table import RecordTable

__all__ = ["OperationDialog", "ReferrerDialog", "user_searcher"]


def user_searcher(database: Database, context: QWidget):
    """A ``search(text, deliver)`` for a related-user field: users by email or name."""
    def search(typed: str, deliver) -> None:
        database.read(search_users, typed, on_success=deliver, context=context)
    return search


class OperationDialog(QDialog):
    """``fields`` in a form; OK runs ``make(values)`` and closes when it succeeded. Field
    errors show under their fields; other refusals in the banner; nothing is lost.

    Signals:
        done(object): the operation's result.
    """

    done = Signal(object)

    def __init__(self, database: Database, title: str, intro: str,
                 fields: Sequence[FieldSpec], make: Callable[[dict], Operation], *,
                 ok_label: str = "OK", values: Mapping[str, Any] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self._db, self._make = database, make
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = RecordForm(fields)
        self.form.set_values(dict(values or {}))
        self.banner = Banner(error=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(ok_label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.form.submitted.connect(lambda _v: self.submit())
        layout = QVBoxLayout(self)
        for widget in (self.intro, self.form, self.banner, self.buttons):
            layout.addWidget(widget)

    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return  # one write at a time: a double click sends it once
        self.form.clear_errors()
        self.banner.setVisible(False)
        self.ok_button.setEnabled(False)
        self._db.perform(self._make(self.form.values()), on_success=self._on_done,
                         on_failure=self._on_failed, context=self)

    def _on_done(self, result: Any) -> None:
        self.done.emit(result)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        present_error(self._db, exc, banner=self.banner, form=self.form)


class ReferrerDialog(QDialog):
    """One referrer: their referrals, the rewards they earned, the progress to each active
    reward's threshold, and Grant for a reward they reached.

    Signals:
        reward_granted(object): the :class:`GrantResult`.
    """

    reward_granted = Signal(object)

    def __init__(self, database: Database, referrer_id: uuid.UUID,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Referrer")
        self.resize(760, 520)
        self._db = database
        self.referrer_id = referrer_id
        self.summary: ReferrerSummary | None = None
        self.request_ids: dict[int, uuid.UUID] = {}  # reward -> request id, made on open
        self._latest = LatestRequest()
        self.title = QLabel("Loading…")
        self.title.setWordWrap(True)
        self.banner = Banner(error=True)
        self.progress = RecordTable(("Reward", "Type", "Needs", "Countable", "State"),
                                    display=format_value)
        self.grant_note = QLabel("")
        self.grant_note.setWordWrap(True)
        self.grant_note.setMinimumHeight(self.grant_note.fontMetrics().lineSpacing() * 3 + 4)
        self.grant_button = QPushButton("&Grant reward…")
        self.grant_button.setEnabled(False)
        self.grant_button.clicked.connect(self.grant_selected)
        database.rights.guard(self.grant_button, "referrals")
        self.progress.itemSelectionChanged.connect(self._update_grant)
        self.referrals = RecordTable(("Referred", "Code", "Referred at", "State"),
                                     display=format_value)
        self.earned = RecordTable(("Reward", "Type", "Claimed", "Applied", "Through the app"),
                                  display=format_value)
        tabs = QTabWidget()
        progress_tab = QWidget()
        box = QVBoxLayout(progress_tab)
        box.addWidget(self.progress, 1)
        box.addWidget(self.grant_note)
        box.addWidget(self.grant_button)
        tabs.addTab(progress_tab, "Progress")
        tabs.addTab(self.referrals, "Referrals")
        tabs.addTab(self.earned, "Rewards earned")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.banner, tabs, close):
            layout.addWidget(widget)
        database.changed.connect(self._on_database_changed)  # a bound slot: gone with us
        self.reload()

    def _on_database_changed(self, changes) -> None:
        if changes.touches("referrals") or changes.touches("referral_flags"):
            self.reload()

    def reload(self) -> None:
        on_loaded = self._latest.wrap(self._on_loaded)
        self._db.read(get_referrer_summary, self.referrer_id, on_success=on_loaded,
                      on_failure=lambda exc: present_error(self._db, exc, banner=self.banner),
                      context=self)

    def _on_loaded(self, summary: ReferrerSummary | None) -> None:
        if summary is None:
            self.title.setText("This user no longer exists.")
            return
        self.summary = summary
        code = f"code <b>{html.escape(summary.code)}</b>" if summary.code else "no code"
        held = f", {summary.flagged} held back by fraud flags awaiting review" \
            if summary.flagged else ""
        self.title.setText(f"<b>{html.escape(summary.full_name)}</b> "
                           f"&lt;{html.escape(summary.email)}&gt; · {code} · "
                           f"{summary.countable} countable referral(s){held}")
        self.progress.set_rows([(p.name, p.type, p.required, p.countable, p.note)
                                for p in summary.progress],
                               keys=[p.reward_id for p in summary.progress])
        for p in summary.progress:
            self.request_ids.setdefault(p.reward_id, uuid.uuid4())
        self.referrals.set_rows([(r.referred_email, r.code, r.referred_at, r.state)
                                 for r in summary.referrals], keys=[r.id for r in summary.referrals])
        self.earned.set_rows([(e.name, e.type, e.claimed_at, e.applied_at, e.through_app)
                              for e in summary.earned])
        self._update_grant()

    def _selected(self):
        key = self.progress.current_key()
        if self.summary is None or key is None:
            return None
        return next((p for p in self.summary.progress if p.reward_id == key), None)

    def _update_grant(self) -> None:
        chosen = self._selected()
        self.grant_button.setEnabled(chosen is not None and chosen.grantable)
        self.grant_note.setText(what_granting_does(chosen.type) if chosen is not None else
                                "Select a reward to see what granting it does.")

    def select_reward(self, reward_id: int) -> None:
        keys = list(self.progress.keys)
        if reward_id in keys:
            self.progress.selectRow(keys.index(reward_id))

    def grant_selected(self) -> None:
        chosen = self._selected()
        if chosen is None or not chosen.grantable or self.summary is None:
            return
        tokens = f" ({chosen.tokens:,} tokens)" if chosen.tokens is not None else ""
        question = Confirmation(
            "Grant reward", f"Grant “{chosen.name}”{tokens} to {self.summary.email}?",
            "Grant reward", informative=what_granting_does(chosen.type))
        if not confirmed(self, question):
            return
        self.grant_button.setEnabled(False)
        self._db.perform(GrantReward(self.referrer_id, chosen.reward_id,
                                     self.request_ids[chosen.reward_id]),
                         on_success=self._on_granted,
                         on_failure=lambda exc: (present_error(self._db, exc,
                                                               banner=self.banner),
                                                 self._update_grant()),
                         context=self)

    def _on_granted(self, result: Any) -> None:
        self.banner.setVisible(False)
        self.reward_granted.emit(result)
        self.reload()
