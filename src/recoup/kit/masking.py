"""Masked renderings of personal data, the default everywhere a person or a log could see it."""

from __future__ import annotations


def mask_phone(number: str) -> str:
    """`+8613812341234` -> `+86138****1234`; keeps the country code, the first 3 and the last 4."""
    digits = number.lstrip("+")
    prefix = "+" if number.startswith("+") else ""
    if len(digits) <= 7:
        return prefix + "*" * max(len(digits) - 2, 0) + digits[-2:]
    cc_len = 2 if number.startswith("+86") else (1 if number.startswith("+1") else 0)
    head = digits[: cc_len + 3]
    return prefix + head + "*" * (len(digits) - len(head) - 4) + digits[-4:]


def mask_email(address: str) -> str:
    """`zhang.wei@example.com` -> `z***@example.com`."""
    local, _, domain = address.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def mask_name(name: str) -> str:
    """`张伟` -> `张*`; `Emily Chen` -> `E**** C***`."""
    if not name:
        return name
    if all(ord(ch) > 0x2E80 for ch in name.replace(" ", "")):
        return name[0] + "*" * (len(name) - 1)
    return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())


def mask_id(value: str) -> str:
    return ("*" * (len(value) - 4) + value[-4:]) if len(value) > 4 else "****"
