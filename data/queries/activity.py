"""A user's email log, activity and notifications: the Users detail's inline lists.

Each is a :class:`~data.queries.listing.TableListing` with an ``owner`` column, read newest
first by keyset on (created_at, id) through the table's ``user_id`` index.
"""

from __future__ import annotations

from data.models.platform import EmailLog, Event, Notification
from data.queries.listing import TableListing

__all__ = ["ACTIVITY", "EMAIL_LOG", "NOTIFICATIONS"]

EMAIL_LOG = TableListing(
    title="Emails",
    columns=(("Sent", EmailLog.created_at), ("Type", EmailLog.email_type),
             ("Subject", EmailLog.subject), ("Status", EmailLog.status),
             ("Error", EmailLog.error_message), ("Delivered", EmailLog.delivered_at)),
    sort=EmailLog.created_at, id_column=EmailLog.id, owner=EmailLog.user_id,
)

ACTIVITY = TableListing(
    title="Activity",
    columns=(("Time", Event.created_at), ("Event", Event.event_type),
             ("Data", Event.event_data)),
    sort=Event.created_at, id_column=Event.id, owner=Event.user_id,
)

NOTIFICATIONS = TableListing(
    title="Notifications",
    columns=(("Created", Notification.created_at), ("Type", Notification.type),
             ("Title", Notification.title), ("Read", Notification.read_at)),
    sort=Notification.created_at, id_column=Notification.id, owner=Notification.user_id,
)
