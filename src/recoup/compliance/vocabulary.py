"""How an account's own words map onto the guard's: the daily run (a frame) and the dispatcher
(one contact) describe a contact to the guard the same way, from here."""

from __future__ import annotations

from recoup.compliance.localtime import zones_for_place

# The kind of address each channel reaches: Reg F treats a work e-mail, a home phone and an app
# differently; Recoup's own addresses are the debtor's mobile, personal e-mail and the wallet app.
TO_TYPE = {
    "sms": "mobile",
    "call": "mobile",
    "dial": "mobile",
    "ai_call": "mobile",
    "email": "personal_email",
    "push": "app",
    "in_app": "app",
    "letter": "postal",
    "wechat": "app",  # the debtor's account as the lender's service account knows it (openid)
    "whatsapp": "mobile",  # a WhatsApp account is its mobile number
}
# Recoup's channels the guard knows under another name: an agent's bridged call is a call.
GUARD_CHANNEL = {"dial": "call"}
COLLECTOR_ROLE = {"creditor": "creditor", "agency": "third_party"}
PRODUCT = {"bnpl": "bnpl", "credit_line": "credit_line", "micro_loan": "micro_loan"}
DEFAULT_PRODUCT = "personal_loan"


def flags(*, dispute_open: bool, hardship: bool, cease: bool) -> frozenset[str]:
    """The guard's status flags from the account's open pauses (by kind)."""
    out = set()
    if dispute_open:
        out.add("dispute_open")
    if hardship:
        out.add("hardship_review")
    if cease:
        out.add("cease_requested")
    return frozenset(out)


def jurisdiction_zones(jurisdiction: str) -> tuple[str, ...]:
    """The zones a jurisdiction spans: what the guard assumes of a debtor whose address, phone and
    device say nothing."""
    country, _, region = jurisdiction.partition("-")
    return tuple(zones_for_place(country, region.split("-")[0] or None)) or ("UTC",)
