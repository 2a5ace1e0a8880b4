"""Customers, accounts, bills and payments: the ledger's service, one module per part.

- `products`: the default products, a product by code, value dates in its time zone;
- `customers`: customers and their contacts (made, found by blind index, changed, erased);
- `accounts`: accounts (opened, found, locked for a change of money);
- `billing`: bills added or issued, components taken off by arrangements, what is paid of each;
- `payments`: payments recorded once, reversed once, and where each went;
- `reallocation`: the waterfall replayed for one account or many;
- `imports`: the set-based counterparts for a file of rows (the importer);
- `errors`: the ledger's errors.

Design: balances are derived, never mutated counters. A bill holds what is due; what has been paid
is the sum of its allocations; allocations are rewritten for the whole account by replaying live
payments through the product's waterfall (`ledger/allocation.py`) whenever a payment, a reversal
or a bill changes. `reallocate` returns the earliest business date whose balances changed, so
delinquency recomputes from exactly there. Services never commit: the request, job or command
that calls them owns the transaction.

Other domains call the ledger through this package (`from recoup.ledger import service as
ledger_service`): the names below are its front door, each defined in the part that says what it
is.
"""

from __future__ import annotations

from recoup.ledger.service.accounts import account_by_ref, create_account, get_account
from recoup.ledger.service.billing import (
    COMPONENTS,
    add_bill,
    bills,
    issue_bill,
    paid_by_bill,
    take_off,
)
from recoup.ledger.service.customers import (
    address_returned,
    backfill_indexes,
    create_customer,
    erase_customer,
    get_customer,
    lookup_indexes,
    reveal,
    set_language,
)
from recoup.ledger.service.errors import (
    AccountNotFound,
    CustomerNotFound,
    DuplicateReference,
    PaymentNotFound,
)
from recoup.ledger.service.imports import (
    account_ids_by_ref,
    accounts_by_ref,
    bill_totals,
    customer_ids_by_ref,
    import_accounts,
    import_bills,
    import_customers,
    import_payments,
    paid_totals,
    payments_by_external_id,
)
from recoup.ledger.service.payments import (
    allocations_of,
    get_payment,
    record_payment,
    reverse_payment,
)
from recoup.ledger.service.products import (
    DEFAULT_PRODUCTS,
    ensure_default_products,
    product,
    product_codes,
    value_date,
)
from recoup.ledger.service.reallocation import reallocate, reallocate_many

__all__ = [
    "COMPONENTS",
    "DEFAULT_PRODUCTS",
    "AccountNotFound",
    "CustomerNotFound",
    "DuplicateReference",
    "PaymentNotFound",
    "account_by_ref",
    "account_ids_by_ref",
    "accounts_by_ref",
    "add_bill",
    "address_returned",
    "allocations_of",
    "backfill_indexes",
    "bill_totals",
    "bills",
    "create_account",
    "create_customer",
    "customer_ids_by_ref",
    "ensure_default_products",
    "erase_customer",
    "get_account",
    "get_customer",
    "get_payment",
    "import_accounts",
    "import_bills",
    "import_customers",
    "import_payments",
    "issue_bill",
    "lookup_indexes",
    "paid_by_bill",
    "paid_totals",
    "payments_by_external_id",
    "product",
    "product_codes",
    "reallocate",
    "reallocate_many",
    "record_payment",
    "reveal",
    "reverse_payment",
    "set_language",
    "take_off",
    "value_date",
]
