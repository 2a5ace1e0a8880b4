"""The ledger's errors, each with its HTTP status (`recoup.kit.errors`)."""

from __future__ import annotations

from recoup.kit.errors import Conflict, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    description = "No such customer"


class AccountNotFound(NotFound):
    code = "account_not_found"
    description = "No such account"


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    description = "No such payment"


class DuplicateReference(Conflict):
    code = "duplicate_reference"
    description = "The external reference is already used"
