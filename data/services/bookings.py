"""Offering bookings made and changed by staff: book on behalf, cancel, mark, portal access.

One import path for all of it; each part lives in a module named for what it does:

- :mod:`data.services.booking_rules` — what every change shares: lock the offering, count
  under the lock, the :class:`BookingResult` each change answers with;
- :mod:`data.services.booking_creation` — book on behalf (complimentary or credits), once
  per request;
- :mod:`data.services.booking_status` — cancel (saying first what it returns), mark
  completed or no-show;
- :mod:`data.services.portal_access` — extend, revoke or end a booking's portal access;
- :mod:`data.services.offering_cancellation` — cancel an offering with all its bookings, a
  guided bulk.

Capacity holds for every writer of the app (pretix's rule: lock what you count): each
change that adds, removes or re-labels a booking first locks the offering row
(``SELECT … FOR UPDATE``), then counts under that lock with the rules of
:mod:`data.schedules` and writes in the same transaction. The same lock makes "one confirmed
booking per customer per offering" hold for the app's writes (the platform's table has no
constraint for it, and the app adds none). ``booking_count`` moves with each change: it is
the number of bookings not canceled. Every path that locks a booking row takes its
offering first, the refund flow finishing a card booking included, so two writers never
wait on each other in a circle.

Once only: a booking made here has the request id its dialog created as its own id, so a
double click or a retry finds it and answers it (``replayed``). Tokens move only through
:func:`data.services.credits.move_booking_credits` (``spent_offering`` and its return, with
``offering_booking_id``), keyed by the booking
(:func:`spend_key`, :func:`return_key`): a booking's credits are taken once and given back
once, whatever is retried. A booking paid by card is cancelled through the refund flow
(:mod:`data.services.refunds`), never by :func:`cancel_booking`; cancelling a whole offering
refunds its card bookings through that flow too (:func:`run_offering_cancellation`).
"""

from __future__ import annotations

from data.services.booking_creation import PAYMENTS, book_on_behalf, spend_key
from data.services.booking_rules import (
    ACCESS_ACTION,
    BOOK_ACTION,
    CANCEL_ACTION,
    MARK_ACTION,
    MAX_REASON,
    BookingResult,
    LockedOffering,
    counted_bookings,
    lock_offering,
)
from data.services.booking_status import (
    MARKS,
    CancellationPlan,
    cancel_booking,
    cancellation_plan,
    mark_booking,
    return_key,
)
from data.services.offering_cancellation import (
    BulkCancelResult,
    BulkLine,
    card_refund_key,
    offering_cancellation_preview,
    run_offering_cancellation,
)
from data.services.portal_access import (
    end_portal_access,
    revoke_portal_access,
    set_portal_access,
)

__all__ = [
    "ACCESS_ACTION",
    "BOOK_ACTION",
    "CANCEL_ACTION",
    "MARKS",
    "MARK_ACTION",
    "MAX_REASON",
    "PAYMENTS",
    "BookingResult",
    "BulkCancelResult",
    "BulkLine",
    "CancellationPlan",
    "LockedOffering",
    "book_on_behalf",
    "cancel_booking",
    "cancellation_plan",
    "card_refund_key",
    "counted_bookings",
    "end_portal_access",
    "lock_offering",
    "mark_booking",
    "offering_cancellation_preview",
    "return_key",
    "revoke_portal_access",
    "run_offering_cancellation",
    "set_portal_access",
    "spend_key",
]
