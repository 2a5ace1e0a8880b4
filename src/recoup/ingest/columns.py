"""What each kind of import file holds: its required and optional columns, and the order files load in.

Columns (CSV header or JSON keys; amounts are integers in minor units; dates YYYY-MM-DD; times ISO 8601
with an offset; lists in CSV are separated by `;`, a phone may be written `type:number`).

A customer's `consents` (new customers only: a known customer's row is skipped whole) is a list of
`kind[:channel or HH:MM-HH:MM][@YYYY-MM-DD]`, e.g. `electronic:sms;time_window:21:00-22:00@2027-01-01`
(kinds: electronic, time_window, call_back, third_party, data_processing; the date is when it
lapses, at 00:00 UTC), with `consent_evidence` saying who took them, how, and a reference (required
with `consents`). They are recorded with source `import`; a bad one rejects its row, named
`consents` or `consent_evidence` in the report:
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    customers = "customers"
    accounts = "accounts"
    bills = "bills"
    payments = "payments"


REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.customers: ("external_ref", "name", "jurisdiction"),
    Kind.accounts: ("external_ref", "customer_ref", "product", "currency", "opened_date"),
    Kind.bills: ("account_ref", "external_ref", "due_date", "principal_minor"),
    Kind.payments: ("external_id", "account_ref", "amount_minor", "currency", "received_at"),
}
OPTIONAL: dict[Kind, tuple[str, ...]] = {
    Kind.customers: (
        "national_id",
        "phones",
        "emails",
        "country",
        "region",
        "city",
        "postal_code",
        "address_line",
        "preferred_language",
        "timezones",
        "consents",
        "consent_evidence",
        "birth_year",
        "birth_date",
        "sex",
    ),
    Kind.accounts: ("credit_limit_minor", "closed_date", "status", "collector", "agency_ref"),
    Kind.bills: ("interest_minor", "fees_minor"),
    Kind.payments: ("source",),
}
ORDER = (Kind.customers, Kind.accounts, Kind.bills, Kind.payments)
__doc__ = (__doc__ or "") + "\n".join(
    f"    {k}: {', '.join(REQUIRED[k])} [optional: {', '.join(OPTIONAL[k])}]" for k in ORDER
)


def kind_of(path: Path) -> Kind | None:
    stem = path.name.split(".")[0].lower()
    for kind in Kind:
        if stem == kind or stem.endswith(kind) or stem.startswith(kind):
            return kind
    return None
