"""What the demo's areas share while they fill one database: connection, clock, generators and
the plans made by earlier areas."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.loading import Loader
    from data.demo.offerings import Offering
    from data.demo.referrals import ReferralPlan
    from data.demo.subscriptions import Tier
    from data.demo.users import People


@dataclass
class DemoContext:
    """The state one fill passes from area to area, in the order of
    :data:`data.demo.build.STEPS`.

    The first fields are the fill's arguments. The others are what an area planned for the
    areas after it (``people`` by the users area, ``catalog`` by the catalog, ...); each is set
    by its area's step, and reading one before that step raises AttributeError.

    Every area draws from generators of its own (:meth:`rng`), so that adding rows to one
    area leaves every other area's rows as they were.
    """

    conn: psycopg.Connection
    loader: Loader
    clock: Clock
    seed: int
    users: int
    purchases: int
    people: People = field(init=False)
    referrals: ReferralPlan = field(init=False)
    catalog: Catalog = field(init=False)
    tiers: list[Tier] = field(init=False)
    offerings: list[Offering] = field(init=False)

    def rng(self, stage: str) -> random.Random:
        """A generator for ``stage`` alone, seeded from the fill's seed and the stage's name:
        what a stage draws depends only on the seed and on what earlier stages decided, not
        on how many numbers they drew."""
        return random.Random(f"platform-demo-data:{self.seed}:{stage}")
