"""Actions, declared: what a button does to the selected row (or record).

An :class:`Action` either opens a dialog (``open``) or builds a named operation for the page
to run (``operation``; the page's binding in ``desktop/`` runs it), after a confirmation when ``confirm`` says one is due. :class:`ActionBar`
turns a page's actions into buttons (and the view's context menu, Return, double click) that
follow the current row: each is enabled when its ``enabled(row)`` says so. An action with
``many=True`` acts on the selected rows instead (``enabled(rows)``, ``open(rows)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QPushButton, QWidget

from widgets.dialogs import confirm as ask_to_confirm

__all__ = ["Action", "ActionBar", "Confirmation", "confirmed"]


@dataclass(frozen=True)
class Confirmation:
    """The question asked before an action: Cancel is the default answer."""

    title: str
    text: str
    confirm_label: str
    informative: str = ""
    destructive: bool = False


def confirmed(parent: QWidget, question: Confirmation | None) -> bool:
    """Ask ``question`` (None: nothing to ask); True when the user confirmed."""
    if question is None:
        return True
    return ask_to_confirm(parent, title=question.title, text=question.text,
                          informative=question.informative,
                          confirm_label=question.confirm_label,
                          destructive=question.destructive)


def _has_row(row: Any) -> bool:
    return row is not None and row != []


def always(_row: Any) -> bool:
    """For ``enabled``: an action that needs no row (New…, a dialog of the whole page)."""
    return True


@dataclass(frozen=True)
class Action:
    """One action on a row: ``open(row)`` shows a dialog (a string names a method of the
    page), or ``operation(row)`` builds the named write to run. ``label`` may depend on the row (``label_for``: "Delete…" or
    "Restore…"). ``default`` makes it the row's double-click and Return action. ``many``: it
    acts on the selected rows (a list, in the list's order) rather than the current one."""

    label: str
    open: Callable[[Any], Any] | str | None = None
    operation: Callable[[Any], Any] | None = None
    enabled: Callable[[Any], bool] = _has_row
    confirm: Callable[[Any], Confirmation | None] | None = None
    label_for: Callable[[Any], str] | None = None
    default: bool = False
    name: str = ""
    apart: bool = False
    """Set apart at the far end of the bar (a destructive action, away from Save)."""
    many: bool = False
    requires: str = ""
    """A right this action needs (a name the app's privileges know, "adjust_tokens"):
    without it the button stays disabled, its tooltip saying who may
    (:meth:`ActionBar.set_refusals`)."""

    @property
    def key(self) -> str:
        return self.name or self.label.replace("&", "").rstrip("…").strip().lower()

    def text(self, row: Any) -> str:
        return self.label_for(row) if self.label_for is not None and row is not None \
            else self.label

    def asks(self, parent: QWidget, row: Any) -> bool:
        """True when the action may go ahead (no question due, or the user confirmed)."""
        return confirmed(parent, self.confirm(row) if self.confirm is not None else None)


class ActionBar(QWidget):
    """Buttons for ``actions`` on the row ``current()`` returns (``selection()`` the selected
    rows, for actions with ``many``); ``trigger(action, row)`` is called when one is pressed
    (the page runs it). Call :meth:`update_for` when the row or its state changed."""

    def __init__(self, actions: Sequence[Action], current: Callable[[], Any],
                 trigger: Callable[[Action, Any], None], parent: QWidget | None = None, *,
                 selection: Callable[[], list] | None = None):
        super().__init__(parent)
        self._actions = tuple(actions)
        self._current = current
        self._selection = selection or (lambda: [] if current() is None else [current()])
        self._trigger = trigger
        self.buttons: dict[str, QPushButton] = {}
        self._busy = False
        self._blocked = ""
        self._refusals: dict[str, str] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for action in self._actions:
            if action.apart:
                layout.addStretch(1)
            button = QPushButton(action.label)
            button.clicked.connect(lambda _c=False, a=action: self.run(a))
            self.buttons[action.key] = button
            layout.addWidget(button)
        self.update_for(None)

    @property
    def has_apart(self) -> bool:
        """Some action is set apart: give the bar the row's spare width."""
        return any(action.apart for action in self._actions)

    def run(self, action: Action) -> None:
        row = self._selection() if action.many else self._current()
        if self._busy or self._blocked or self._refused(action) or not action.enabled(row):
            return
        self._trigger(action, row)

    def action(self, key: str) -> Action:
        """The action whose :attr:`Action.key` is ``key``."""
        return next(a for a in self._actions if a.key == key)

    def run_default(self) -> None:
        for action in self._actions:
            if action.default:
                self.run(action)
                return

    def set_busy(self, busy: bool) -> None:
        """While a write of the page is in flight its actions wait (a second click would
        send the version the first one is replacing)."""
        self._busy = busy
        self.update_for(self._current())

    def set_blocked(self, reason: str) -> None:
        """While ``reason`` is not empty no action may run, and each button says why (the
        page's state, not the row, forbids them: unsaved edits, several rows selected)."""
        self._blocked = reason
        self.update_for(self._current())

    def set_refusals(self, refusals: dict[str, str]) -> None:
        """The rights this login lacks, each with the sentence saying who may: an action that
        ``requires`` one stays disabled and its tooltip says that sentence."""
        self._refusals = dict(refusals)
        self.update_for(self._current())

    def _refused(self, action: Action) -> str:
        return self._refusals.get(action.requires, "") if action.requires else ""

    def update_for(self, row: Any) -> None:
        selection = None
        for action in self._actions:
            button = self.buttons[action.key]
            if action.many:
                selection = self._selection() if selection is None else selection
                subject = selection
            else:
                subject = row
            button.setText(action.text(subject))
            refused = self._refused(action)
            button.setEnabled(not self._busy and not self._blocked and not refused
                              and action.enabled(subject))
            button.setToolTip(refused or self._blocked)

    def attach_to(self, view: QAbstractItemView) -> None:
        """The view's context menu lists the actions; Return and double click run the
        default one."""
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in self._actions:
            qaction = QAction(action.label.replace("&", ""), view)
            qaction.triggered.connect(lambda _c=False, a=action: self.run(a))
            if action.default:
                qaction.setShortcuts([QKeySequence(Qt.Key.Key_Return),
                                      QKeySequence(Qt.Key.Key_Enter)])
                qaction.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            view.addAction(qaction)
        view.doubleClicked.connect(lambda _index: self.run_default())
