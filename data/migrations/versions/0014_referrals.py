"""referral program: voids, grants once per (referrer, reward, threshold), fraud flags.

The platform's ``referrals.status`` knows pending, qualified and rewarded only, so what the
app adds lives in ``admin``:

* ``admin.referral_voids``: a referral voided by staff (fraud, refund) and why; a voided
  referral counts toward no threshold;
* ``admin.referral_grants``: each reward granted through the app, with the referrals it
  counted. The unique index ``ix_referral_grants_once`` on (referrer, reward, threshold) is
  what makes a grant happen once under a double click or two staff at once: the second
  insert waits for the first to commit and then conflicts. (No constraint goes on the
  platform's ``user_referral_rewards``.)
* ``admin.referral_flags``: fraud signals found on referrals, one per (referral, signal),
  and their review; an open flag keeps the referral out of every threshold.

Indexes on the platform's tables (CONCURRENTLY, ``ix_admin_``) for the lists and the scans:
referrals by referrer, by code and time, and newest first; claims by user.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    "ix_admin_referrals_referrer": "referrals (referrer_id, referred_at, id)",
    "ix_admin_referrals_code_time": "referrals (referral_code, referred_at)",
    "ix_admin_referrals_referred_at": "referrals (referred_at DESC, id DESC)",
    "ix_admin_user_referral_rewards_user": "user_referral_rewards (user_id, reward_id)",
    "ix_admin_users_referred_by": "users (referred_by)",
}

_TS = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_voids",
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referrals.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("voided_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
        schema="admin",
    )
    op.create_table(
        "referral_grants",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reward_id", sa.Integer(), sa.ForeignKey("referral_rewards.id"),
                  nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("user_reward_id", sa.Integer(), sa.ForeignKey("user_referral_rewards.id"),
                  nullable=False),
        sa.Column("referral_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("granted_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("threshold >= 1", name="referral_grants_threshold_check"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", name="referral_grants_request_id_key"),
        schema="admin",
    )
    op.create_index("ix_referral_grants_once", "referral_grants",
                    ["referrer_id", "reward_id", "threshold"], unique=True, schema="admin")
    op.create_table(
        "referral_flags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referrals.id"), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("found_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("reviewed_at", _TS, nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "signal IN ('self_user', 'self_email', 'self_name', 'older_account', 'ring', "
            "'burst', 'never_paid')", name="referral_flags_signal_check"),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('cleared', 'voided')",
                           name="referral_flags_outcome_check"),
        sa.CheckConstraint("(reviewed_at IS NULL) = (outcome IS NULL)",
                           name="referral_flags_reviewed_check"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "signal",
                            name="referral_flags_referral_id_signal_key"),
        schema="admin",
    )
    op.create_index("ix_referral_flags_open", "referral_flags", ["found_at", "id"],
                    schema="admin", postgresql_where=sa.text("reviewed_at IS NULL"))
    op.create_index("ix_referral_flags_referral", "referral_flags", ["referral_id"],
                    schema="admin")
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_table("referral_flags", schema="admin")
    op.drop_table("referral_grants", schema="admin")
    op.drop_table("referral_voids", schema="admin")
