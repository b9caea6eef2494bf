"""Named operations (see :mod:`data.operations.base`), one module per area."""

from data.operations.base import (
    NO_CHANGES,
    BatchOperation,
    Changes,
    ConnectionOperation,
    Operation,
    PaymentOperation,
    run_in_transaction,
)

__all__ = ["NO_CHANGES", "BatchOperation", "Changes", "ConnectionOperation", "Operation",
           "PaymentOperation", "run_in_transaction"]
