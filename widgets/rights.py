"""What this login may not do, and the controls that follow it.

One mechanism for the whole app: a control declares the right it ``requires`` (a name the
app's privileges know, "adjust_tokens"), and whatever builds it — the page machinery, a
dialog, a context menu, a page built long after start — asks the one :class:`Rights` of the
database. :meth:`Rights.guard` holds a button, a menu entry or a shortcut disabled while that
right is refused, its tooltip the sentence saying who may, whatever else would enable it
(a selection, a finished load); a disabled :class:`~PySide6.QtGui.QAction` or
:class:`~PySide6.QtGui.QShortcut` does nothing when its key is pressed. Builders that compose
their own enabled state (:class:`~widgets.actions.ActionBar`) ask :meth:`Rights.refusal`
and follow :attr:`Rights.changed`.

The database stays the judge: this only spares a person an attempt PostgreSQL would refuse.
The widgets know no database: what is refused comes in as a function (:meth:`Rights.follow`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QWidget

__all__ = ["Rights"]

Guardable = QWidget | QAction | QShortcut


def _allow_everything(_requires: str) -> str:
    return ""


class Rights(QObject):
    """The rights this login lacks, each with the sentence saying who may.

    Until :meth:`follow` is called (the answer is read at start, off the GUI thread)
    everything is allowed: PostgreSQL refuses what it must.

    Signals:
        changed(): what is refused changed; every guarded control has followed already.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._refusal: Callable[[str], str] = _allow_everything

    def follow(self, refusal: Callable[[str], str]) -> None:
        """From now on ``refusal(requires)`` says why this login may not ("": it may)."""
        self._refusal = refusal
        self.changed.emit()

    def refusal(self, requires: str) -> str:
        """The sentence saying who may do what ``requires`` needs; "" when this login may
        (or nothing is required)."""
        return self._refusal(requires) if requires else ""

    def may(self, requires: str) -> bool:
        return not self.refusal(requires)

    def guard(self, control: Guardable, requires: str) -> None:
        """Hold ``control`` (a button or any widget, a menu entry, a shortcut) disabled while
        ``requires`` is refused, its tooltip saying who may; the owner enables and disables
        it as before, and the refusal wins. Lives as long as ``control``."""
        if requires:
            _Guard(self, control, requires)

    def allowing(self, requires: str, fn: Callable[..., Any],
                 refused: Callable[[str], Any] | None = None) -> Callable[..., Any]:
        """``fn``, which does nothing while ``requires`` is refused (``refused`` is then
        called with the sentence instead): for a key or a double click that acts without a
        control of its own."""

        def run(*args: Any) -> Any:
            why = self.refusal(requires)
            if why:
                return refused(why) if refused is not None else None
            return fn(*args)

        return run


class _Guard(QObject):
    """Keeps one control disabled, and its tooltip the refusal, while its right is refused.

    A child of the control (it goes when the control goes). Someone else enabling the
    control or setting its tooltip is undone at once: for a widget on its ``EnabledChange``
    and ``ToolTipChange`` events, for an action on its ``changed`` signal, for a shortcut
    when :attr:`Rights.changed` fires (nothing else enables a shortcut).
    """

    def __init__(self, rights: Rights, control: Guardable, requires: str):
        super().__init__(control)
        self._rights = rights
        self._control = control
        self._requires = requires
        self._own_tooltip = control.toolTip() if hasattr(control, "toolTip") else ""
        self._was_enabled = control.isEnabled()
        self._refused = ""
        rights.changed.connect(self._apply)
        if isinstance(control, QWidget):
            control.installEventFilter(self)
        elif isinstance(control, QAction):
            control.changed.connect(self._hold)
        self._apply()

    def _apply(self) -> None:
        refused = self._rights.refusal(self._requires)
        if refused == self._refused:
            self._hold()
            return
        if refused and not self._refused:  # becoming refused: remember the owner's state
            self._was_enabled = self._control.isEnabled()
            self._own_tooltip = self._tooltip()
        self._refused = refused
        if refused:
            self._hold()
        else:  # allowed again: the owner's last word stands
            self._control.setEnabled(self._was_enabled)
            self._set_tooltip(self._own_tooltip)

    def _hold(self) -> None:
        if not self._refused:
            return
        if self._control.isEnabled():
            self._was_enabled = True
            self._control.setEnabled(False)
        if self._tooltip() != self._refused:
            tip = self._tooltip()
            if tip:
                self._own_tooltip = tip
            self._set_tooltip(self._refused)

    def _tooltip(self) -> str:
        return self._control.toolTip() if hasattr(self._control, "toolTip") else ""

    def _set_tooltip(self, text: str) -> None:
        if hasattr(self._control, "setToolTip"):
            self._control.setToolTip(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if self._refused and event.type() in (QEvent.Type.EnabledChange,
                                              QEvent.Type.ToolTipChange):
            self._hold()
        return False
