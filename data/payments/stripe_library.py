"""stripe-python, imported when first used: importing it takes about a second (aiohttp with
it), and the app's window opens before any payment is needed. ``stripe.X`` works as with
``import stripe``."""

from __future__ import annotations

import importlib
from typing import Any


class _Stripe:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("stripe"), name)


stripe: Any = _Stripe()
