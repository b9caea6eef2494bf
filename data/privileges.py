"""What this login may do, asked of PostgreSQL (``has_table_privilege``,
``has_column_privilege``, ``has_function_privilege``) in one read at start-up.

PostgreSQL decides; the app only follows: an action this login may not take is disabled with
a sentence naming the group that may (:meth:`Privileges.refusals`), and if rights change
while the app runs, the database refuses the write and the app says so in a sentence
(:func:`data.db_errors.translate_db_error`). Without ``db roles`` set up in this database a
login with full rights may do everything, as before, and :attr:`Privileges.role_text` says
how to set the roles up.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.roles import FOUNDER_GROUP, OWNER_GROUP, STAFF_GROUPS, SUPPORT_GROUP
from data.services.credits import MONEY_FUNCTIONS
from data.services.period_credits import GRANT_FUNCTION
from data.services.refunds import REFUND_FUNCTIONS

ROLES_COMMAND = "platform-admin db roles --apply"


@dataclass(frozen=True)
class Capability:
    """Something a person does in the app, the SQL condition that says this login may, the
    words for it ("adjust token balances") and the group ``db roles`` gives it to ("a or b"
    when two have it; None: no staff group, only a login with full rights on the table).
    A control that needs it declares ``requires=<name>`` (see ``widgets.rights``)."""

    name: str
    doing: str
    check: str
    group: str | None


CAPABILITIES = (
    Capability("edit_profile", "fix a user's profile",
               "has_column_privilege('public.users', 'full_name', 'UPDATE') AND "
               "has_column_privilege('public.users', 'email', 'UPDATE')", SUPPORT_GROUP),
    Capability("manage_users", "delete, restore or verify users",
               "has_column_privilege('public.users', 'deleted_at', 'UPDATE') AND "
               "has_column_privilege('public.users', 'email_verified_at', 'UPDATE')", None),
    Capability("adjust_tokens", "adjust token balances",
               "(" + " AND ".join(f"has_function_privilege('{f}', 'EXECUTE')"
                                  for f in MONEY_FUNCTIONS)
               + ") OR (has_table_privilege('public.credit_balances', 'UPDATE') AND "
                 "has_table_privilege('public.credit_transactions', 'INSERT'))", SUPPORT_GROUP),
    Capability("period_credits", "grant a subscription period's credits",
               f"has_function_privilege('{GRANT_FUNCTION}', 'EXECUTE')", SUPPORT_GROUP),
    Capability("subscriptions", "cancel, resume or change subscriptions",
               "has_table_privilege('admin.subscription_requests', 'INSERT')", SUPPORT_GROUP),
    Capability("refund", "refund purchases and bookings",
               "(" + " AND ".join(f"has_function_privilege('{f}', 'EXECUTE')"
                                  for f in REFUND_FUNCTIONS)
               + ") OR (has_table_privilege('admin.refund_requests', 'INSERT') AND "
                 "has_table_privilege('admin.refund_requests', 'UPDATE'))", SUPPORT_GROUP),
    Capability("edit_catalog", "change the content catalog",
               "has_table_privilege('public.content', 'INSERT') AND "
               "has_table_privilege('public.content', 'UPDATE')", OWNER_GROUP),
    Capability("content_access", "grant or revoke content access",
               "has_table_privilege('public.content_access', 'INSERT')", SUPPORT_GROUP),
    Capability("featured", "change the featured content",
               "has_table_privilege('public.platform_settings', 'UPDATE')", OWNER_GROUP),
    Capability("edit_tiers", "change subscription tiers",
               "has_table_privilege('public.subscription_tiers', 'UPDATE')", OWNER_GROUP),
    Capability("edit_offerings", "create and change offerings",
               "has_table_privilege('public.offerings', 'INSERT')", OWNER_GROUP),
    Capability("bookings", "book, cancel and mark bookings",
               "has_table_privilege('public.offering_bookings', 'INSERT')", SUPPORT_GROUP),
    Capability("edit_rewards", "define referral rewards",
               "has_table_privilege('public.referral_rewards', 'UPDATE')", OWNER_GROUP),
    Capability("referral_codes", "create and change referral codes",
               "has_table_privilege('public.referral_codes', 'INSERT') AND "
               "has_table_privilege('public.referral_codes', 'UPDATE')",
               f"{OWNER_GROUP} or {SUPPORT_GROUP}"),
    Capability("referrals", "move referrals, review flags and grant rewards",
               "has_table_privilege('public.referrals', 'UPDATE')", SUPPORT_GROUP),
)
BY_NAME = {c.name: c for c in CAPABILITIES}

_GROUP_STATE = text("""
SELECT g.name,
       r.oid IS NOT NULL AND has_schema_privilege(r.oid, 'admin', 'USAGE') AS set_up,
       r.oid IS NOT NULL AND pg_has_role(session_user, r.oid, 'MEMBER')
           -- a superuser "is a member" of every role: count only real membership
           AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS member
FROM unnest(CAST(:groups AS text[])) WITH ORDINALITY AS g(name, n)
LEFT JOIN pg_roles r ON r.rolname = g.name
ORDER BY g.n
""")


@dataclass(frozen=True)
class Privileges:
    """This login's rights, as PostgreSQL answered at one moment."""

    login: str
    roles_set_up: bool
    """Every staff group exists and has been granted its rights in this database."""
    groups: tuple[str, ...]
    """The staff groups this login is a member of."""
    allowed: frozenset[str]
    """The :data:`CAPABILITIES` (by name) this login may use."""

    def may(self, capability: str) -> bool:
        return capability in self.allowed

    def refusal(self, capability: str) -> str:
        """Why this login may not (a sentence naming who may), or "" when it may."""
        if self.may(capability):
            return ""
        c = BY_NAME[capability]
        who = (f"members of {c.group} may" if c.group is not None
               else "no staff group may; only a login with full rights on the table can")
        return f"Your database login may not {c.doing}: {who}."

    def refusals(self) -> dict[str, str]:
        """Each capability this login lacks, with its sentence (for the UI)."""
        return {c.name: self.refusal(c.name) for c in CAPABILITIES if not self.may(c.name)}

    @property
    def role_text(self) -> str:
        """The status bar's words for this login's role."""
        if not self.roles_set_up:
            return f"No staff roles are set up (run “{ROLES_COMMAND}”)"
        if not self.groups:
            return "Role: none of the staff groups"
        return "Role: " + ", ".join(g.removeprefix("platform_admin_") for g in self.groups)


def read_privileges(session: Session) -> Privileges:
    """Ask PostgreSQL, in one statement each, what this login may do."""
    login = session.execute(text("SELECT session_user")).scalar_one()
    states = session.execute(_GROUP_STATE, {"groups": list(STAFF_GROUPS)}).all()
    checks = ", ".join(f"({c.check}) AS {c.name}" for c in CAPABILITIES)
    row = session.execute(text(f"SELECT {checks}")).one()
    allowed = frozenset(c.name for c, ok in zip(CAPABILITIES, row, strict=True) if ok)
    return Privileges(login=login, roles_set_up=all(s.set_up for s in states),
                      groups=tuple(s.name for s in states if s.member), allowed=allowed)


__all__ = ["CAPABILITIES", "FOUNDER_GROUP", "ROLES_COMMAND", "Capability", "Privileges",
           "read_privileges"]
