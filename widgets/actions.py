"""Actions, declared: what a button does to the selected row (or record).

An :class:`Action` either opens a dialog (``open``) or builds a named operation for the page
to run (``operation``; the page's binding in ``desktop/`` runs it), after a confirmation when ``confirm`` says one is due. :class:`ActionBar`
turns a page's actions into buttons (and the view's context menu, Return, double click) that
follow the current row: each is enabled when its ``enabled(row)`` says so. An action with
``many=True`` acts on the selected rows instead (``enabled(rows)``, ``open(rows)``). An
action that ``requires`` a right the login's :class:`~widgets.rights.Rights` refuse stays
disabled — button, context menu entry and key alike — its tooltip saying who may.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QWidget,
)

from widgets.dialogs import confirm as ask_to_confirm
from widgets.rights import Rights

__all__ = ["Action", "ActionBar", "Confirmation", "confirmed", "context_menu",
           "show_context_menu"]


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
    while the bar's :class:`~widgets.rights.Rights` refuse it, the button, the context
    menu entry and its key stay disabled, the tooltip saying who may."""

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
    (the page runs it). Call :meth:`update_for` when the row or its state changed. ``rights``:
    what the login may not do (None: everything allowed)."""

    def __init__(self, actions: Sequence[Action], current: Callable[[], Any],
                 trigger: Callable[[Action, Any], None], parent: QWidget | None = None, *,
                 selection: Callable[[], list] | None = None, rights: Rights | None = None):
        super().__init__(parent)
        self._actions = tuple(actions)
        self._current = current
        self._selection = selection or (lambda: [] if current() is None else [current()])
        self._trigger = trigger
        self.buttons: dict[str, QPushButton] = {}
        self._busy = False
        self._blocked = ""
        self._rights = rights
        self.menu_actions: dict[str, QAction] = {}
        """The context menu's entries (:meth:`attach_to`), by :attr:`Action.key`."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for action in self._actions:
            if action.apart:
                layout.addStretch(1)
            button = QPushButton(action.label)
            button.clicked.connect(lambda _c=False, a=action: self.run(a))
            self.buttons[action.key] = button
            layout.addWidget(button)
        if rights is not None:  # a method, not a lambda: let go when the bar is deleted
            rights.changed.connect(self._on_rights_changed)
        self.update_for(None)

    def _on_rights_changed(self) -> None:
        self.update_for(self._current())

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

    def _refused(self, action: Action) -> str:
        return self._rights.refusal(action.requires) if self._rights is not None else ""

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
            enabled = (not self._busy and not self._blocked and not refused
                       and action.enabled(subject))
            button.setEnabled(enabled)
            button.setToolTip(refused or self._blocked)
            entry = self.menu_actions.get(action.key)
            if entry is not None:  # the context menu and the key say the same
                entry.setText(action.text(subject).replace("&", ""))
                entry.setEnabled(enabled)
                entry.setToolTip(refused or self._blocked)

    def attach_to(self, view: QAbstractItemView) -> None:
        """The view's context menu lists the actions, each enabled as its button is (a
        refused one says who may); Return and double click run the default one."""
        for action in self._actions:
            qaction = QAction(action.label.replace("&", ""), view)
            qaction.triggered.connect(lambda _c=False, a=action: self.run(a))
            if action.default:
                qaction.setShortcuts([QKeySequence(Qt.Key.Key_Return),
                                      QKeySequence(Qt.Key.Key_Enter)])
                qaction.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            view.addAction(qaction)
            self.menu_actions[action.key] = qaction
        show_context_menu(view)
        view.doubleClicked.connect(lambda _index: self.run_default())
        self.update_for(self._current())


def context_menu(widget: QWidget) -> QMenu:
    """The menu of ``widget``'s actions, as its context menu shows it: a disabled entry's
    tooltip (who may) shows too."""
    menu = QMenu(widget)
    menu.setToolTipsVisible(True)
    menu.addActions(widget.actions())
    return menu


def show_context_menu(widget: QWidget) -> None:
    """Right-clicking ``widget`` shows :func:`context_menu` (Qt's own menu of the actions
    hides the tooltips that say why an entry is disabled)."""

    # A scroll area (a table) says where in its viewport it was clicked.
    origin = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget

    def show(pos: QPoint) -> None:
        menu = context_menu(widget)
        menu.exec(origin.mapToGlobal(pos))
        menu.deleteLater()

    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    widget.customContextMenuRequested.connect(show)
