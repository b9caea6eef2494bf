"""The reorderable list: model contract, drag and drop through the model, keyboard, buttons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, Qt

from widgets.ordered_list import IdRole, OrderedList, OrderedListModel

ITEMS = [("a", "Alpha"), ("b", "Bravo"), ("c", "Charlie"), ("d", "Delta")]


@pytest.fixture
def model(qtbot):
    m = OrderedListModel()
    m.set_items(ITEMS, tooltips={"a": "first"})
    return m


@pytest.fixture
def widget(qtbot):
    w = OrderedList(removable=True)
    qtbot.addWidget(w)
    w.set_items(ITEMS)
    w.resize(360, 220)
    w.show()
    return w


def test_model_passes_qtmodeltester(qtmodeltester, model):
    qtmodeltester.check(model)
    model.move_item(0, 3)
    model.append_item("e", "Echo")
    model.remove_at(1)
    qtmodeltester.check(model)


def test_model_shows_text_id_and_tooltip(model):
    index = model.index(0, 0)
    assert index.data() == "Alpha"
    assert index.data(IdRole) == "a"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "first"
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(index) & Qt.ItemFlag.ItemIsDropEnabled  # drop between, not onto


def _drag(model, rows):
    return model.mimeData([model.index(r, 0) for r in rows])


def test_drag_first_row_to_the_end(qtbot, model):
    mime = _drag(model, [0])
    with qtbot.waitSignal(model.order_changed) as sig:
        assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 4, 0, QModelIndex())
    assert sig.args == [["b", "c", "d", "a"]]
    assert model.texts() == ["Bravo", "Charlie", "Delta", "Alpha"]


def test_drag_last_row_to_the_top_and_onto_an_item(model):
    assert model.dropMimeData(_drag(model, [3]), Qt.DropAction.MoveAction, 0, 0,
                              QModelIndex())
    assert model.ids() == ["d", "a", "b", "c"]
    # Dropped onto "b" (no row): goes before it.
    assert model.dropMimeData(_drag(model, [3]), Qt.DropAction.MoveAction, -1, -1,
                              model.index(2, 0))
    assert model.ids() == ["d", "a", "c", "b"]


def test_drag_several_rows_keeps_their_relative_order(model):
    assert model.dropMimeData(_drag(model, [0, 2]), Qt.DropAction.MoveAction, 4, 0,
                              QModelIndex())
    assert model.ids() == ["b", "d", "a", "c"]


def test_drop_onto_own_place_changes_nothing(qtbot, model):
    with qtbot.assertNotEmitted(model.order_changed):
        assert model.dropMimeData(_drag(model, [1]), Qt.DropAction.MoveAction, 1, 0,
                                  QModelIndex())
        assert model.dropMimeData(_drag(model, [1]), Qt.DropAction.MoveAction, 2, 0,
                                  QModelIndex())
    assert model.ids() == ["a", "b", "c", "d"]


def test_stale_or_foreign_drag_is_refused(model):
    stale = _drag(model, [0])
    model.set_items([("x", "X"), ("a", "Alpha")])  # reloaded while dragging
    assert not model.canDropMimeData(stale, Qt.DropAction.MoveAction, 2, 0, QModelIndex())
    assert not model.dropMimeData(stale, Qt.DropAction.MoveAction, 2, 0, QModelIndex())
    foreign = QMimeData()
    foreign.setText("a")
    assert not model.dropMimeData(foreign, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert not model.dropMimeData(_drag(model, [0]), Qt.DropAction.CopyAction, 2, 0,
                                  QModelIndex())
    assert model.ids() == ["x", "a"]


def test_drop_keeps_the_current_row_on_its_item(widget):
    widget.select_row(1)  # Bravo
    widget.model.dropMimeData(_drag(widget.model, [1]), Qt.DropAction.MoveAction, 4, 0,
                              QModelIndex())
    assert widget.current_id() == "b"
    assert widget.view.current_row() == 3


def test_list_view_internal_move_uses_move_rows(qtbot, widget):
    """What QListView does on an internal drop: moveRow(source, destination-before)."""
    m = widget.model
    with qtbot.waitSignal(widget.order_changed) as sig:
        assert m.moveRow(QModelIndex(), 0, QModelIndex(), 3)
    assert sig.args == [["b", "c", "a", "d"]]
    assert not m.moveRow(QModelIndex(), 1, QModelIndex(), 1)  # onto itself


@pytest.mark.parametrize("modifier", [Qt.KeyboardModifier.ControlModifier,
                                      Qt.KeyboardModifier.AltModifier])
def test_keyboard_moves_current_row(qtbot, widget, modifier):
    widget.view.setFocus()
    widget.select_row(0)
    with qtbot.waitSignal(widget.order_changed):
        qtbot.keyClick(widget.view, Qt.Key.Key_Down, modifier)
    qtbot.keyClick(widget.view, Qt.Key.Key_Down, modifier)
    assert widget.ids() == ["b", "c", "a", "d"]
    assert widget.current_id() == "a"
    qtbot.keyClick(widget.view, Qt.Key.Key_Up, modifier)
    assert widget.ids() == ["b", "a", "c", "d"]
    # Plain arrows still just move the selection.
    qtbot.keyClick(widget.view, Qt.Key.Key_Down)
    assert widget.current_id() == "c" and widget.ids() == ["b", "a", "c", "d"]


def test_buttons_move_and_remove_and_follow_the_ends(qtbot, widget):
    widget.select_row(0)
    assert not widget.up_button.isEnabled() and widget.down_button.isEnabled()
    qtbot.mouseClick(widget.down_button, Qt.MouseButton.LeftButton)
    assert widget.ids() == ["b", "a", "c", "d"]
    widget.select_row(3)
    assert widget.up_button.isEnabled() and not widget.down_button.isEnabled()
    qtbot.mouseClick(widget.up_button, Qt.MouseButton.LeftButton)
    assert widget.ids() == ["b", "a", "d", "c"]
    with qtbot.waitSignal(widget.order_changed) as sig:
        qtbot.mouseClick(widget.remove_button, Qt.MouseButton.LeftButton)
    assert sig.args == [["b", "a", "c"]]
    assert widget.current_id() == "c"


def test_append_refuses_duplicates_and_set_items_refuses_duplicate_ids(qtbot, model):
    with qtbot.assertNotEmitted(model.order_changed):
        assert not model.append_item("a", "Alpha again")
    with pytest.raises(ValueError):
        model.set_items([("a", "A"), ("a", "A2")])
