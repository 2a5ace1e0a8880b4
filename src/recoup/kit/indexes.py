"""Blind indexes: keyed HMACs of normalised personal values, so lookups never decrypt a table.

Normalisation is part of the index: phones are stored in E.164 already (the ledger normalises them
on the way in), e-mails are case-folded whole, national IDs lose spaces and hyphens and are
upper-cased. Two spellings of one value give one index; the index reveals nothing without the key.
"""

from __future__ import annotations

import re

from recoup.kit.crypto import blind_index

_ID_NOISE = re.compile(r"[\s\-]")


def phone_index(e164: str) -> str:
    return blind_index("phone", e164.strip())


def email_index(address: str) -> str:
    return blind_index("email", address.strip().casefold())


def national_id_index(value: str) -> str:
    return blind_index("national_id", _ID_NOISE.sub("", value).upper())
