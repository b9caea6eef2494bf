"""Named operations (see :mod:`data.operations.base`), one module per area."""

from data.operations.base import (
    NO_CHANGES,
    BatchOperation,
    Changes,
    Operation,
    PaymentOperation,
)

__all__ = ["NO_CHANGES", "BatchOperation", "Changes", "Operation", "PaymentOperation"]
