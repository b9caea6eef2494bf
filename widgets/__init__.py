"""Reusable Qt parts for Platform Admin. They know no database: data arrives as plain rows."""

from widgets.pyside_bool_refcount_guard import guard_bools_against_emit_refcount_bug

# Must run before anything emits a signal from Python; see the module for the PySide6 bug.
guard_bools_against_emit_refcount_bug()
