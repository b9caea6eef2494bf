"""adjust_tokens refusal writes nothing: a refused adjustment leaves no balance row behind.

``admin.adjust_tokens`` creates the balance row of a customer who has none before it decides.
When it then refuses (a removal below zero, a request id already used for another customer),
the row it made stayed until the caller rolled back. The app now runs a token adjustment as
the one statement it is, in autocommit (``data.operations.credits.AdjustBalance``: no BEGIN
and COMMIT round trips), so nothing rolls back after the function returns: the function itself
deletes the row it created for a refusal. The rest of the function is 0023's, unchanged.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = """    IF claimed IS NULL THEN
        SELECT * INTO stored FROM admin.credit_adjustments a WHERE a.request_id = p_request_id;
"""
_REFUSAL_WRITES_NOTHING = """    IF claimed IS NULL THEN
        IF created THEN
            DELETE FROM credit_balances cb WHERE cb.id = b.id;
        END IF;
        SELECT * INTO stored FROM admin.credit_adjustments a WHERE a.request_id = p_request_id;
"""


def _adjust_tokens_0023() -> str:
    return importlib.import_module(
        "data.migrations.versions.0023_audit_partitions").ADJUST_TOKENS


def upgrade() -> None:
    before = _adjust_tokens_0023()
    assert before.count(_REFUSAL) == 1, "0023's adjust_tokens is not the one this edits"
    op.execute(before.replace(_REFUSAL, _REFUSAL_WRITES_NOTHING))


def downgrade() -> None:
    op.execute(_adjust_tokens_0023())
