"""Realistic, mutually consistent demo data for an empty platform database.

:func:`fill_demo_data` fills every platform table (users, content, purchases, subscriptions,
offerings, credits, notifications, analytics events and the referral program) so that the back
office has something believable to show, at any scale from a few hundred users to millions.

How it stays fast at a million users:

* every table is loaded with ``COPY ... FROM STDIN``; rows come from generators and are written
  with ``write_row``, so nothing big is ever held as rows in memory;
* values are handed to psycopg as ready strings (timestamps through :class:`_Clock`, money
  pre-formatted per item), because psycopg's datetime and Decimal dumpers cost more than the rest
  of a row;
* as pg_restore does, the loaded tables' indexes, keys and foreign keys are dropped for the
  load and recreated afterwards, in the same transaction (only when the connected role owns the
  tables): building an index once is much cheaper than maintaining it row by row, and the rows
  are consistent by construction; recreating the constraints still proves it.
* the customer simulation streams each chunk's purchases to the server while it computes, so
  that Python and PostgreSQL work at the same time.

How it stays consistent: whatever a later table must agree with (who was referred by whom, which
content a customer owns, a customer's running credit balance) is decided in Python before the
rows that depend on it are written. Customers are processed in chunks: for each chunk their
subscriptions, purchases, access rows, playback, bookings and credit ledgers are generated
together and copied table by table in foreign-key order.

How it stays deterministic: each stage draws from its own ``random.Random`` seeded from
``seed`` and the stage name, ids are random-looking version-4 UUIDs drawn from those generators,
and every timestamp is an offset from ``anchor``. Nothing reads the clock or asks the server to
generate a value (SERIAL ids of the referral tables aside, which a fresh database numbers the
same way every time).

One module per area, each loading its own tables: :mod:`~data.demo.users`,
:mod:`~data.demo.catalog`, :mod:`~data.demo.subscriptions`, :mod:`~data.demo.offerings`,
:mod:`~data.demo.purchases`, :mod:`~data.demo.tokens` (credits), :mod:`~data.demo.referrals`,
:mod:`~data.demo.platform_settings` and :mod:`~data.demo.activity` (emails, notifications,
events). :mod:`~data.demo.customers` runs the per-customer simulation that subscriptions,
purchases, bookings and credits share; :mod:`~data.demo.build` calls each area's step in order,
passing a :class:`~data.demo.context.DemoContext`. To add demo rows for a new page, add them to
its area's step, or write a new area module with a step and list it in
:data:`~data.demo.build.STEPS`.
"""

from data.demo.build import MIN_USERS, STEPS, fill_demo_data
from data.demo.context import DemoContext
from data.demo.loading import Progress

__all__ = ["MIN_USERS", "STEPS", "DemoContext", "Progress", "fill_demo_data"]
