"""One place that shows a failed operation's error where it belongs.

Errors arrive translated (:meth:`desktop.database.Database` runs every failure through
:func:`data.db_errors.translate_db_error`): pages never inspect a driver exception. Here:

- a :class:`ValidationError` goes under its fields (the form's own line for the rest);
- a :class:`ConflictError` goes to the page's conflict view (``on_conflict``) and the banner;
- any other :class:`DomainError` (refused, lost, not found, not allowed) to the banner;
- anything else is a bug: the log and the crash dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from data.errors import ConflictError, DomainError, ValidationError
from desktop.database import Database
from widgets.record_form import RecordForm

log = logging.getLogger("platform_admin")

__all__ = ["ErrorTarget", "present_error"]

ErrorTarget = Callable[[str], None]
"""Where a sentence goes: a banner's ``show_message``, a dialog's message label."""


def _show(target, text: str) -> None:
    show = getattr(target, "show_message", target)
    show(text)


def present_error(database: Database, exc: BaseException, *, banner,
                  form: RecordForm | None = None,
                  on_conflict: Callable[[ConflictError], None] | None = None,
                  fields: Callable[[dict], None] | None = None,
                  prefix: str = "") -> bool:
    """Show ``exc``; return True when it was an expected error (False: a bug, reported).

    ``banner`` is a :class:`~widgets.banner.Banner` or any ``show(text)`` callable;
    ``form`` shows field errors (or ``fields(field_errors)`` for a hand-built form);
    ``prefix`` starts the banner's sentence ("Your change to x was not saved: ").
    """
    if isinstance(exc, ValidationError):
        if form is not None:
            form.set_errors(exc.field_errors)
        elif fields is not None:
            fields(exc.field_errors)
        else:
            _show(banner, prefix + "; ".join(exc.field_errors.values()))
        return True
    if isinstance(exc, ConflictError):
        _show(banner, prefix + str(exc))
        if on_conflict is not None:
            on_conflict(exc)
        return True
    if isinstance(exc, DomainError):
        log.warning("%s%s", prefix, exc)
        _show(banner, prefix + str(exc))
        return True
    database.runner.unhandled_error.emit(exc)  # the crash dialog logs it with the traceback
    return False
