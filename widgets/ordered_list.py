"""A list whose rows the user puts in order: drag and drop, Ctrl/Alt+Up/Down, or buttons.

:class:`OrderedListModel` holds ``(id, text)`` pairs and knows nothing of where they come
from; :class:`OrderedList` is the view with Move up / Move down (and optionally Remove)
buttons. Both report the new order as a list of ids.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["IdRole", "OrderedList", "OrderedListModel", "OrderedListView"]

IdRole = int(Qt.ItemDataRole.UserRole) + 1
"""``data(index, IdRole)`` returns the item's id."""

AnyIndex = QModelIndex | QPersistentModelIndex
_MOVE_KEYS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}


class OrderedListModel(QAbstractListModel):
    """``(id, text)`` rows in a user-chosen order; ids are unique.

    Drag and drop within the list moves rows (``moveRows`` for Qt's own list view, and
    ``mimeData``/``dropMimeData`` carrying the dragged rows for any other view). Nothing
    is ever removed by a drop.

    Signals:
        order_changed(list): the ids in their new order, after any move, add or remove made
            through the model (not after ``set_items``).
    """

    MIME_TYPE = "application/x-platform-admin-ordered-rows"
    order_changed = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[tuple[Hashable, str]] = []
        self._tooltips: dict[Hashable, str] = {}

    # -- public API -------------------------------------------------------------------------
    def set_items(self, items: Iterable[tuple[Hashable, str]],
                  tooltips: dict[Hashable, str] | None = None) -> None:
        """Replace every row (the loaded state; ``order_changed`` is not emitted)."""
        items = list(items)
        ids = [i for i, _ in items]
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        self.beginResetModel()
        self._items = items
        self._tooltips = dict(tooltips or {})
        self.endResetModel()

    def ids(self) -> list[Hashable]:
        return [i for i, _ in self._items]

    def texts(self) -> list[str]:
        return [t for _, t in self._items]

    def contains(self, item_id: Hashable) -> bool:
        return any(i == item_id for i, _ in self._items)

    def id_at(self, row: int) -> Hashable:
        return self._items[row][0]

    def append_item(self, item_id: Hashable, text: str, tooltip: str = "") -> bool:
        """Add a row at the end; False (and nothing changes) if the id is already listed."""
        if self.contains(item_id):
            return False
        n = len(self._items)
        self.beginInsertRows(QModelIndex(), n, n)
        self._items.append((item_id, text))
        if tooltip:
            self._tooltips[item_id] = tooltip
        self.endInsertRows()
        self.order_changed.emit(self.ids())
        return True

    def remove_at(self, row: int) -> bool:
        if not 0 <= row < len(self._items):
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        item_id, _ = self._items.pop(row)
        self._tooltips.pop(item_id, None)
        self.endRemoveRows()
        self.order_changed.emit(self.ids())
        return True

    def move_item(self, row: int, to: int) -> bool:
        """Move the row at ``row`` so that it ends up at position ``to``."""
        n = len(self._items)
        if not (0 <= row < n and 0 <= to < n) or row == to:
            return False
        # moveRows' destination is the row the item goes *before*, in the old numbering.
        return self.moveRows(QModelIndex(), row, 1, QModelIndex(), to + 1 if to > row else to)

    # -- Qt model -----------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item_id, text = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == IdRole:
            return item_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltips.get(item_id) or None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops go between rows, never onto one
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemNeverHasChildren)

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [self.MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        payload = {"rows": rows, "ids": [str(self._items[r][0]) for r in rows]}
        mime.setData(self.MIME_TYPE, QByteArray(json.dumps(payload).encode()))
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        return (action == Qt.DropAction.MoveAction and data.hasFormat(self.MIME_TYPE)
                and self._dragged_rows(data) is not None)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: AnyIndex) -> bool:
        """Move the dragged rows so they sit, in their old relative order, before ``row``
        (or before ``parent``'s row when dropped onto an item; at the end if neither)."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        rows = self._dragged_rows(data)
        assert rows is not None
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._items)
        moving = [self._items[r] for r in rows]
        before = row - sum(1 for r in rows if r < row)
        rest = [it for r, it in enumerate(self._items) if r not in set(rows)]
        new_items = rest[:before] + moving + rest[before:]
        if new_items == self._items:
            return True
        # A layout change rather than a reset keeps selection and current row on the items.
        self.layoutAboutToBeChanged.emit()
        old_ids = [it[0] for it in self._items]
        new_positions = {it[0]: r for r, it in enumerate(new_items)}
        persistent = self.persistentIndexList()
        self._items = new_items
        self.changePersistentIndexList(
            persistent,
            [self.index(new_positions[old_ids[p.row()]], 0) if p.isValid() else QModelIndex()
             for p in persistent])
        self.layoutChanged.emit()
        self.order_changed.emit(self.ids())
        return True

    def moveRows(self, source_parent: AnyIndex, source_row: int, count: int,
                 destination_parent: AnyIndex, destination_child: int) -> bool:
        n = len(self._items)
        if (source_parent.isValid() or destination_parent.isValid() or count < 1
                or source_row < 0 or source_row + count > n
                or not 0 <= destination_child <= n
                or source_row <= destination_child <= source_row + count):
            return False
        if not self.beginMoveRows(QModelIndex(), source_row, source_row + count - 1,
                                  QModelIndex(), destination_child):
            return False
        moving = self._items[source_row:source_row + count]
        del self._items[source_row:source_row + count]
        insert_at = destination_child - count if destination_child > source_row \
            else destination_child
        self._items[insert_at:insert_at] = moving
        self.endMoveRows()
        self.order_changed.emit(self.ids())
        return True

    # -- internals ----------------------------------------------------------------------------
    def _dragged_rows(self, data: QMimeData) -> list[int] | None:
        """The dragged rows, if they still hold the ids that were dragged (a drag started
        before the list was reloaded must not move other items)."""
        try:
            payload = json.loads(bytes(data.data(self.MIME_TYPE).data()).decode())
            rows, ids = list(payload["rows"]), list(payload["ids"])
        except (ValueError, KeyError, TypeError):
            return None
        if not rows or len(rows) != len(ids):
            return None
        for r, i in zip(rows, ids, strict=True):
            if not isinstance(r, int) or not 0 <= r < len(self._items) \
                    or str(self._items[r][0]) != i:
                return None
        return sorted(set(rows))


class OrderedListView(QListView):
    """A list view that moves its current row with Ctrl+Up/Down or Alt+Up/Down, and by
    dragging it within the list."""

    def __init__(self, model: OrderedListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setAlternatingRowColors(True)

    def current_row(self) -> int | None:
        index = self.currentIndex()
        return index.row() if index.isValid() else None

    def move_current(self, step: int) -> bool:
        """Move the current row up (-1) or down (+1); it stays the current row."""
        row = self.current_row()
        if row is None:
            return False
        target = row + step
        if not self._model.move_item(row, target):
            return False
        self.setCurrentIndex(self._model.index(target, 0))
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        reorder = bool(mods & (Qt.KeyboardModifier.ControlModifier
                               | Qt.KeyboardModifier.AltModifier))
        if reorder and event.key() in _MOVE_KEYS:
            self.move_current(_MOVE_KEYS[Qt.Key(event.key())])
            event.accept()
            return
        super().keyPressEvent(event)


class OrderedList(QWidget):
    """An :class:`OrderedListView` with Move up / Move down buttons (and Remove when
    ``removable``).

    Signals:
        order_changed(list): the ids in their new order after the user moved, or removed,
            a row.
        current_changed(object): the id of the current row, or None.
    """

    order_changed = Signal(list)
    current_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, removable: bool = False,
                 remove_label: str = "&Remove") -> None:
        super().__init__(parent)
        self.model = OrderedListModel(self)
        self.view = OrderedListView(self.model, self)
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move d&own")
        self.up_button.setToolTip("Move the selected row up (Ctrl+Up)")
        self.down_button.setToolTip("Move the selected row down (Ctrl+Down)")
        self.up_button.clicked.connect(lambda: self._on_move_clicked(-1))
        self.down_button.clicked.connect(lambda: self._on_move_clicked(1))
        self.remove_button: QPushButton | None = None
        buttons = QVBoxLayout()
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        if removable:
            self.remove_button = QPushButton(remove_label)
            self.remove_button.clicked.connect(self._on_remove_clicked)
            buttons.addWidget(self.remove_button)
        buttons.addStretch()
        for button in (self.up_button, self.down_button, self.remove_button):
            if button is not None:
                # Inside a dialog, Return belongs to the dialog's own default button.
                button.setAutoDefault(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.model.order_changed.connect(self.order_changed)
        self.model.modelReset.connect(self._update_buttons)
        self.model.rowsMoved.connect(self._update_buttons)
        self.model.layoutChanged.connect(self._update_buttons)
        self.model.rowsInserted.connect(self._update_buttons)
        self.model.rowsRemoved.connect(self._update_buttons)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self._update_buttons()

    def set_items(self, items: Iterable[tuple[Hashable, str]],
                  tooltips: dict[Hashable, str] | None = None) -> None:
        self.model.set_items(items, tooltips)

    def ids(self) -> list[Hashable]:
        return self.model.ids()

    def current_id(self) -> Hashable | None:
        row = self.view.current_row()
        return None if row is None else self.model.id_at(row)

    def select_row(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))

    def _on_move_clicked(self, step: int) -> None:
        self.view.move_current(step)
        self.view.setFocus()
        self._update_buttons()

    def _on_remove_clicked(self) -> None:
        row = self.view.current_row()
        if row is None:
            return
        self.model.remove_at(row)
        if self.model.rowCount():
            self.select_row(min(row, self.model.rowCount() - 1))
        self._update_buttons()

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        self.current_changed.emit(self.model.id_at(current.row()) if current.isValid()
                                  else None)

    def _update_buttons(self, *_args: Any) -> None:
        row = self.view.current_row()
        n = self.model.rowCount()
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < n - 1)
        if self.remove_button is not None:
            self.remove_button.setEnabled(row is not None)
