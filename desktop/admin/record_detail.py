"""A record's detail, declared: load one record, edit it, save it only if unchanged.

A :class:`DetailSpec` names the record's query, its form fields (limits from the model, see
:mod:`desktop.admin.fields`), its title and facts, the named operation that saves edits
and the record's actions (Delete/Restore, with their confirmation). :class:`RecordDetail`
runs the life cycle every detail had by hand:

- the latest selection wins: a late answer for another record is dropped;
- a reload (an announced change, a refund finished) never wipes a dirty form: the edits stay
  on top of the newer version, with a banner naming what clashed;
- a save sends the version it was loaded at; a conflict shows the current values with the
  edits kept; errors go through :func:`present_error` (field errors under their fields);
- while a write is in flight every write button waits.

Subclasses add tabs in :meth:`tabs_built` and fill them in :meth:`detail_loaded`. A
subclass with ``build_in_steps`` builds its form, then each declared tab, then its own tabs
(:meth:`tabs_built`), one per turn of the event loop after the constructor (a big detail no
longer stalls the GUI thread while its page is built); the constructor makes only the title,
the buttons and the actions (a page's toolbar takes those at once). Reading ``form``,
``tabs``, ``tables``, ``notes`` or ``inline_lists``, or loading a record, first builds what
is left at once; :meth:`form_built` hands the form what arrived before it.

A detail may also create records (``create``: New… empties the form, Save creates), put the
form in a tab of its own (``form_tab``), use a hand-built editor instead of a form of
``fields`` (``editor``), keep a record read-only (``read_only``: a deleted one), hold its
actions while there are unsaved edits (``edits_block_actions``) and hand its actions to the
page's toolbar (``toolbar``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConflictError, DomainError
from data.operations import Changes, Operation
from desktop.admin.inline import InlineList, InlineSpec
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.actions import Action, ActionBar, Confirmation, confirmed
from widgets.banner import Banner
from widgets.latest import LatestRequest
from widgets.record_form import FieldSpec, RecordForm, kept_edits_message
from widgets.record_table import RecordTable
from widgets.staged_build import StagedBuild

__all__ = ["DISCARD_EDITS", "DetailSpec", "RecordDetail", "RowAction", "TableTab"]


@dataclass(frozen=True)
class RowAction:
    """A table tab's one row action: ``method`` (a method of the detail) is called with the
    selected row's key; a button under the table, its context menu, Return, double click."""

    label: str
    button: str
    method: str
    requires: str = ""
    """A right the action needs (see :attr:`widgets.actions.Action.requires`)."""


@dataclass(frozen=True)
class TableTab:
    """A tab of the few history rows the detail's query loaded with the record.

    ``rows(loaded)`` gives the cells, ``keys(loaded)`` one key per row (for ``row_action``
    and for ``watch``: an announced change of those rows of that table reloads the detail).
    ``note(loaded)`` is rich text above the table, with ``button`` ((label, method)) beside it.
    """

    title: str
    headers: Sequence[str]
    rows: Callable[[Any], Sequence[Sequence[Any]]]
    keys: Callable[[Any], Sequence[Hashable]] | None = None
    row_action: RowAction | None = None
    watch: str | None = None
    note: Callable[[Any], str] | None = None
    button: tuple[str, str] | None = None
    button_requires: str = ""
    """A right ``button`` needs (see :attr:`widgets.actions.Action.requires`)."""
    more_actions: tuple[RowAction, ...] = ()
    """Further row actions beside ``row_action`` (which must be set), context menu too."""


DISCARD_EDITS = Confirmation("Unsaved changes", "Discard your unsaved changes?",
                             "Discard changes", informative="You edited this and did not save.",
                             destructive=True)
EDITS_BLOCK_ACTIONS = "Save or revert your changes first."


def _article(noun: str) -> str:
    """"a" or "an" before ``noun`` in "Select a user" / "Select an offering"."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _never(_record: Any) -> bool:
    return False


@dataclass(frozen=True)
class DetailSpec:
    """A detail's description.

    ``load(session, key)`` returns what the detail shows (``record_of`` picks the edited
    record out of it, default: itself); ``values_of(record)`` the form's values;
    ``save(record, changed_values)`` the operation that saves edits. ``table`` is the
    record's table: an announced change of the shown record reloads it.
    """

    noun: str
    load: Callable[..., Any]
    fields: Sequence[FieldSpec]
    values_of: Callable[[Any], Mapping[str, Any]]
    save: Callable[[Any, dict], Operation]
    title: Callable[[Any], str]
    table: str
    facts: Callable[[Any], str] | None = None
    record_of: Callable[[Any], Any] = lambda loaded: loaded
    key_of: Callable[[Any], Hashable] = attrgetter("id")
    row_key: Callable[[Any], Hashable] = attrgetter("id")
    label_of: Callable[[Any], str] = str
    actions: Sequence[Action] = ()
    tabs: Sequence[Any] = ()
    """:class:`TableTab` and :class:`~desktop.admin.inline.InlineSpec` (lazy lists of the
    record's rows), in order."""
    watch_owner: Sequence[str] = ()
    """Tables keyed by the record's own id (a customer's ``credit_balances``): an announced
    change of its row there reloads the detail."""
    min_width: int = 480
    editor: Callable[[Database], Any] | None = None
    create: Callable[[dict], Operation] | None = None
    new_values: Callable[[], Any] = dict
    new_title: str = ""
    new_facts: str = ""
    new_save_label: str = "&Save"
    new_label: str = "&New…"
    read_only: Callable[[Any], bool] = _never
    """A record that may not be edited as it is (a deleted one: restore it first)."""
    edits_block_actions: bool = False
    """Actions wait while there are unsaved edits (acting would reload the record)."""
    form_tab: str = ""
    """The form (scrolling) and its Save/Revert in a first tab of this title."""
    toolbar: bool = False
    """New… and the actions go in the page's toolbar (:meth:`RecordDetail.toolbar_widgets`)."""
    save_requires: str = ""
    """A right Save (and New…) needs: while the database's
    :class:`~widgets.rights.Rights` refuse it they stay disabled, saying who may, and Return
    in the form says so in the banner instead of saving."""

    @property
    def changed_while_editing(self) -> str:
        return f"Someone else changed this {self.noun} while you were editing it."


class RecordDetail(QWidget):
    """The detail :class:`DetailSpec` describes.

    Signals:
        record_saved(object): the record after a successful change of this detail.
        record_created(object): the record after New… was saved (it is shown now).
        new_started(): New… emptied the form (a list beside it drops its selection).
    """

    record_saved = Signal(object)
    record_created = Signal(object)
    new_started = Signal()

    build_in_steps: ClassVar[bool] = False
    """Build the form and the tabs one per turn of the event loop (see the module's text)."""

    def __init__(self, spec: DetailSpec, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self._db = database
        self.record: Any = None
        self._requested: Hashable | None = None
        self._busy = False
        self._latest = LatestRequest()

        self._creating = False
        self._blocked = ""
        self._rights = database.rights

        self.title = QLabel(f"Select {_article(spec.noun)} {spec.noun}")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.banner = Banner()
        self._form: Any = None  # built by _build_form (with build_in_steps: on a later turn)
        self._form_scroll: QScrollArea | None = None
        self.facts = QLabel("")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)
        self.save_button = QPushButton("&Save")
        self.revert_button = QPushButton("Re&vert")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.actions = ActionBar(spec.actions, lambda: self.record, self.run_action,
                                 rights=database.rights)
        self.new_button = QPushButton(spec.new_label)
        self.new_button.setVisible(spec.create is not None)
        self.new_button.clicked.connect(self.start_new)
        buttons = QHBoxLayout()
        self.button_row = buttons
        self._tabs = QTabWidget()
        self._tabs.setVisible(False)

        # Everything below the title: hidden until a record is loaded, so an empty pane
        # never shows a form with made-up values (a combo box always shows some value).
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        self._body_layout = body
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        if spec.form_tab:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            self._form_scroll = scroll  # the form goes in when it is built
            form_tab = QWidget()
            tab = QVBoxLayout(form_tab)
            tab.setContentsMargins(4, 4, 4, 4)
            tab.addWidget(scroll, 1)
            buttons.addStretch()
            buttons.addWidget(self.revert_button)
            buttons.addWidget(self.save_button)
            tab.addLayout(buttons)
            self._tabs.addTab(form_tab, spec.form_tab)
            self._tabs.setVisible(True)
            layout.addWidget(self.facts)
        else:  # the form goes first when it is built
            body.addWidget(self.facts)
            buttons.addWidget(self.save_button)
            buttons.addWidget(self.revert_button)
            body.addLayout(buttons)
        if not spec.toolbar:
            buttons.insertWidget(0, self.new_button)
            if self.actions.has_apart:  # the bar's own stretch sets those actions apart
                buttons.addWidget(self.actions, 1)
            else:
                buttons.addWidget(self.actions)
                buttons.addStretch()
        body.addWidget(self._tabs, 1)
        layout.addWidget(self.banner)  # outside the body: a failed load is said even so
        layout.addWidget(self.body, 1)
        layout.addStretch(0)
        self.setMinimumWidth(spec.min_width)
        database.changed.connect(self._on_database_changed)
        database.rights.changed.connect(self._update_buttons)
        self._tables: dict[str, RecordTable] = {}
        self._notes: dict[str, QLabel] = {}
        self._inline_lists: list[InlineList] = []
        steps = [self._build_form]
        steps += [partial(self._add_declared_tab, tab) for tab in spec.tabs]
        steps.append(self.tabs_built)
        self._staged: StagedBuild | None = None
        self._set_enabled(False)
        if self.build_in_steps:
            self._staged = StagedBuild(steps, self)
        else:
            for step in steps:
                step()

    # -- building ----------------------------------------------------------------------------
    def _build_form(self) -> None:
        form = self.spec.editor(self._db) if self.spec.editor is not None \
            else RecordForm(self.spec.fields)
        self._form = form
        form.dirty_changed.connect(self._update_buttons)
        form.submitted.connect(self._on_form_submitted)
        if self._form_scroll is not None:
            self._form_scroll.setWidget(form)
        else:
            self._body_layout.insertWidget(0, form)
        form.set_read_only(self._read_only())
        self.form_built()

    def form_built(self) -> None:
        """The form (or ``editor``) is built: a subclass hands it what came before (with
        ``build_in_steps``: on a later turn than the constructor)."""

    def tabs_built(self) -> None:
        """Every declared tab is built (with ``build_in_steps``: on a later turn); a subclass
        adds its own tabs here."""

    def finish_build(self) -> None:
        """Build the form and tabs left now (``build_in_steps``); nothing when built."""
        if self._staged is not None:
            self._staged.finish()

    @property
    def built(self) -> bool:
        """The form and every tab are built (always, without ``build_in_steps``)."""
        return self._staged is None or self._staged.done

    @property
    def form(self) -> Any:
        """The form (a :class:`~widgets.record_form.RecordForm`, or the spec's ``editor``)."""
        self.finish_build()
        return self._form

    @property
    def tabs(self) -> QTabWidget:
        self.finish_build()
        return self._tabs

    @property
    def tables(self) -> dict[str, RecordTable]:
        """The declared :class:`TableTab` tables, by title."""
        self.finish_build()
        return self._tables

    @property
    def notes(self) -> dict[str, QLabel]:
        self.finish_build()
        return self._notes

    @property
    def inline_lists(self) -> list[InlineList]:
        self.finish_build()
        return self._inline_lists

    def _add_declared_tab(self, tab: Any) -> None:
        if isinstance(tab, InlineSpec):
            inline = InlineList(tab, self._db)
            self._inline_lists.append(inline)
            self._append_tab(inline, tab.title)
            return
        table = RecordTable(tab.headers, display=format_value)
        self._tables[tab.title] = table
        widget: QWidget = table
        if tab.row_action is not None:
            action = tab.row_action
            widget = table.with_action(
                action.label, action.button,
                lambda *_checked, m=action.method, t=table: self._run_row_action(m, t))
            self._rights.guard(table.row_action, action.requires)
            self._rights.guard(table.row_button, action.requires)
            for more in tab.more_actions:
                button = table.add_row_action(
                    more.label, more.button,
                    lambda *_checked, m=more.method, t=table: self._run_row_action(m, t))
                self._rights.guard(table.more_actions[-1], more.requires)
                self._rights.guard(button, more.requires)
        if tab.note is not None or tab.button is not None:
            note = QLabel("")
            note.setWordWrap(True)
            self._notes[tab.title] = note
            row = QHBoxLayout()
            row.addWidget(note, 1)
            if tab.button is not None:
                label, method = tab.button
                button = QPushButton(label)
                button.clicked.connect(lambda _c=False, m=method: getattr(self, m)())
                self._rights.guard(button, tab.button_requires)
                row.addWidget(button)
            holder = QWidget()
            layout = QVBoxLayout(holder)
            layout.addLayout(row)
            layout.addWidget(widget)
            widget = holder
        self._append_tab(widget, tab.title)

    def _run_row_action(self, method: str, table: RecordTable) -> None:
        # A refused action is disabled (Rights.guard): neither its button, its menu entry,
        # Return nor a double click reaches here.
        key = table.current_key()
        if key is not None:
            getattr(self, method)(key)

    def toolbar_widgets(self) -> list[QWidget]:
        """With ``toolbar``: New… (if it creates) and the actions, for the page's toolbar."""
        if not self.spec.toolbar:
            return []
        return ([self.new_button] if self.spec.create is not None else []) + [self.actions]

    def show_form_tab(self) -> None:
        """Bring the form's tab forward (errors are shown there)."""
        if self.spec.form_tab:
            self._tabs.setCurrentIndex(0)

    def add_tab(self, widget: QWidget, title: str) -> None:
        """A tab after the declared ones (built first, if they are built in steps)."""
        self.finish_build()
        self._append_tab(widget, title)

    def _append_tab(self, widget: QWidget, title: str) -> None:
        self._tabs.addTab(widget, title)
        self._tabs.setVisible(True)

    # -- loading -------------------------------------------------------------------------
    @property
    def shown_key(self) -> Hashable | None:
        """The key of the record asked for last (shown, or loading)."""
        return self._requested

    @property
    def is_busy(self) -> bool:
        """A write of this detail is in flight."""
        return self._busy

    @property
    def is_creating(self) -> bool:
        """A new record is in the form (not saved yet)."""
        return self._creating

    @property
    def is_dirty(self) -> bool:
        """There are unsaved edits (of the shown record, or a new one)."""
        return (self.record is not None or self._creating) \
            and self._form is not None and self._form.is_dirty

    def may_leave(self) -> bool:
        """True when nothing unsaved would be lost, or the user agreed to discard it."""
        return not self.is_dirty or confirmed(self, DISCARD_EDITS)

    def block_actions(self, reason: str) -> None:
        """The page forbids acting on this record for ``reason`` ("" lifts it): several
        rows are selected, say."""
        self._blocked = reason
        self._update_buttons()

    def show_row(self, row: Any) -> None:
        """As a list page's detail: show the list's current row's record."""
        self.show(self.spec.row_key(row) if row is not None else None)

    def show(self, key: Hashable | None) -> None:
        """Load and show the record ``key`` (None: nothing)."""
        self.finish_build()  # a record shows in every tab
        self._requested = key
        self._creating = False
        if key is None:
            self._latest.supersede()
            self.record = None
            self.banner.setVisible(False)
            self.title.setText(f"Select {_article(self.spec.noun)} {self.spec.noun}")
            self.facts.setText("")
            self._set_enabled(False)
            self.detail_cleared()
            return
        if not self._is_shown(key):  # a reload keeps the title
            self.title.setText("Loading…")
        on_loaded, on_failed = self._latest.wrap(
            lambda loaded: self._on_loaded(key, loaded),
            lambda exc: self._on_load_failed(key, exc))
        self._db.read(self.spec.load, key, on_success=on_loaded, on_failure=on_failed,
                      context=self)

    def reload(self) -> None:
        """Load the shown record again."""
        if self._requested is not None:
            self.show(self._requested)

    def _is_shown(self, key: Hashable) -> bool:
        return self.record is not None and self.spec.key_of(self.record) == key

    def _on_load_failed(self, key: Hashable, exc: BaseException) -> None:
        text = report_read_failure(self._db, f"this {self.spec.noun}", exc)
        if not self._is_shown(key):
            self.title.setText(f"Could not load this {self.spec.noun}")
        self.banner.show_message(text)

    def _on_loaded(self, key: Hashable, loaded: Any) -> None:
        if loaded is None:
            self._on_load_failed(key, DomainError(f"This {self.spec.noun} no longer exists."))
            return
        record = self.spec.record_of(loaded)
        same = self._is_shown(key)
        if same and self.form.is_dirty:
            # A reload must not wipe what is being typed: the edits stay, on top of the
            # newer version if it changed meanwhile.
            if record.version != self.record.version:
                self._keep_edits_on(record, self.spec.changed_while_editing)
        else:
            self.banner.setVisible(False)
            self._show_record(record)
        self._fill_tabs(loaded, same)
        self.detail_loaded(loaded, same)

    def _fill_tabs(self, loaded: Any, same_record: bool) -> None:
        for tab in self.spec.tabs:
            if isinstance(tab, InlineSpec):
                continue
            table = self.tables[tab.title]
            table.set_rows(tab.rows(loaded), keys=tab.keys(loaded) if tab.keys else ())
            if tab.note is not None:
                self.notes[tab.title].setText(tab.note(loaded))
            if not same_record:  # a row selected for the previous record must not carry over
                table.clear_choice()
        if not same_record:
            for inline in self.inline_lists:
                inline.show_for(self.spec.key_of(self.spec.record_of(loaded)))

    def detail_loaded(self, loaded: Any, same_record: bool) -> None:
        """Fill what subclasses added (tabs) from ``loaded``; ``same_record`` on a reload."""

    def detail_cleared(self) -> None:
        """Nothing is shown any more (or a new record is being made): empty the tabs."""

    def start_new(self) -> bool:
        """An empty form for a new record (``create``); False when the user kept the
        unsaved edits of the record shown instead."""
        if self.spec.create is None or self._busy or not self.may_leave():
            return False
        self.finish_build()
        self._latest.supersede()
        self._requested = None
        self.record = None
        self._creating = True
        self.banner.setVisible(False)
        self.title.setText(self.spec.new_title or f"<b>New {self.spec.noun}</b>")
        self.facts.setText(self.spec.new_facts)
        self.form.set_values(self.spec.new_values())
        self._set_enabled(True)
        self.show_form_tab()
        self.form.setFocus()
        self.detail_cleared()
        self.new_started.emit()
        return True

    def _show_record(self, record: Any, *, keep_edits: bool = False) -> dict:
        self.record = record
        self._creating = False
        self.title.setText(self.spec.title(record))
        clashes = {}
        if keep_edits:
            clashes = self.form.rebase(self.spec.values_of(record))
        else:
            self.form.set_values(self.spec.values_of(record))
        self.facts.setText(self.spec.facts(record) if self.spec.facts else "")
        self._set_enabled(True)
        return clashes

    def _keep_edits_on(self, record: Any, why: str) -> None:
        clashes = self._show_record(record, keep_edits=True)
        self.banner.show_message(kept_edits_message(why, clashes))

    def _set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        self.body.setVisible(enabled)
        if self._form is not None:
            self._form.set_read_only(self._read_only())
        self._update_buttons()

    def _read_only(self) -> bool:
        return not self._enabled or (self.record is not None
                                     and self.spec.read_only(self.record))

    def _update_buttons(self, *_args) -> None:
        loaded = (self.record is not None or self._creating) and not self._busy
        dirty = loaded and self._form is not None and self._form.is_dirty
        refused = self._rights.refusal(self.spec.save_requires)
        self.save_button.setEnabled(dirty and not refused)
        self.revert_button.setEnabled(dirty and not self._creating)
        self.save_button.setText(self.spec.new_save_label if self._creating else "&Save")
        self.save_button.setToolTip(refused)
        self.new_button.setEnabled(not self._busy and not refused)
        self.new_button.setToolTip(refused)
        blocked = self._blocked or (EDITS_BLOCK_ACTIONS if self.spec.edits_block_actions
                                    and self.is_dirty and not self._creating else "")
        self.actions.set_busy(self._busy)
        self.actions.set_blocked(blocked)

    # -- writing ---------------------------------------------------------------------------
    def save(self) -> None:
        """Save the edited fields, if the record is unchanged since it was loaded (or, after
        New…, create the record)."""
        if self._busy or not self.is_dirty:
            return
        refused = self._rights.refusal(self.spec.save_requires)
        if refused:  # Return in the form: say why instead of sending a refused write
            self.banner.show_message(refused)
            return
        self.form.clear_errors()
        if self._creating:
            self.perform(self.spec.create(self.form.values()))
            return
        self.perform(self.spec.save(self.record, self.form.changed_values()))

    def _on_form_submitted(self, *_values) -> None:
        # Before a subclass's save (which may ask a question first): Return in the form of a
        # login without the right says why instead.
        refused = self._rights.refusal(self.spec.save_requires)
        if refused and self.is_dirty:
            self.banner.show_message(refused)
            return
        self.save()

    def revert(self) -> None:
        if self.record is not None:
            self.banner.setVisible(False)
            self._show_record(self.record)

    def run_action(self, action: Action, record: Any) -> Any:
        if record is None or self._busy or not action.asks(self, record):
            return None
        if action.open is not None:
            opener = getattr(self, action.open) if isinstance(action.open, str) else action.open
            return opener(record)
        return self.perform(action.operation(record), from_action=True)

    def perform(self, operation: Operation, *, from_action: bool = False) -> None:
        """Run a write of the shown record (or of the new one); its answer is shown only if
        it still is. ``from_action``: a refusal's sentence goes to the banner too (the user
        pressed an action, not Save, and looks there), its field errors under the fields."""
        record, created = self.record, self._creating
        key = None if created else self.spec.key_of(record)
        label = f"the new {self.spec.noun}" if created else self.spec.label_of(record)
        self._busy = True
        self._update_buttons()
        self._db.perform(operation, on_success=lambda saved: self._on_saved(saved, created),
                         on_failure=lambda exc: self._on_write_failed(key, label, exc,
                                                                      from_action),
                         context=self)

    def _on_saved(self, record: Any, created: bool = False) -> None:
        self._busy = False
        if created and self._creating:
            self._requested = self.spec.key_of(record)
            self.banner.setVisible(False)
            self._show_record(record)
            self.record_created.emit(record)
        elif created or self.spec.key_of(record) != self._requested:
            self._update_buttons()  # another record is shown now: it stays as it is
        else:
            self.banner.setVisible(False)
            self._show_record(record)
        self.record_saved.emit(record)

    def _on_write_failed(self, key: Hashable, label: str, exc: BaseException,
                         from_action: bool = False) -> None:
        self._busy = False
        self._update_buttons()
        if (key != self._requested or (key is None and not self._creating)) \
                and isinstance(exc, DomainError):
            # Not the record shown any more: say what happened, without touching its form.
            self.banner.show_message(f"Your change to {label} was not saved: {exc}")
            return

        def show_field_errors(errors: dict) -> None:
            self.show_form_tab()
            self.form.set_errors(errors)
            if from_action:
                self.banner.show_message(str(exc))

        present_error(self._db, exc, banner=self.banner, fields=show_field_errors,
                      on_conflict=self._on_conflict)

    def _on_conflict(self, exc: ConflictError) -> None:
        current = exc.current
        if current is None or self.spec.key_of(current) != self._requested:
            return
        # Nothing typed is lost: it stays, on top of theirs (unless theirs cannot be edited).
        if self.form.is_dirty and not self.spec.read_only(current):
            self._keep_edits_on(current, str(exc))
        else:
            self._show_record(current)
        # The list's row is out of date too: it changed under us.
        self._db.announce(Changes.of(**{self.spec.table: self.spec.key_of(current)}))

    # -- changes ---------------------------------------------------------------------------
    def _on_database_changed(self, changes: Changes) -> None:
        key = self._requested
        if key is None or self._busy:
            return  # a write of ours is in flight: its own answer shows the result
        if changes.touches(self.spec.table, (key,)) or self.shows_changes(changes):
            self.reload()

    def shows_changes(self, changes: Changes) -> bool:
        """Whether ``changes`` touch what the detail shows besides the record itself: the
        watched rows of its tabs, or its own row of a ``watch_owner`` table."""
        if any(changes.touches(table, (self._requested,)) for table in self.spec.watch_owner):
            return True
        return any(tab.watch is not None and changes.touches(tab.watch, self.tables[tab.title].keys)
                   for tab in self.spec.tabs if isinstance(tab, TableTab))

