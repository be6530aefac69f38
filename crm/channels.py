"""Phones and emails reduced to one spelling, so a client is found however the number was typed.

The store is Russian: "+7 (916) 123-45-67", "8 916 123 45 67" and "9161234567" are one number.
"""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"\D")


def normalize_phone(phone: str) -> str | None:
    """Digits only, with the Russian trunk prefix 8 (or a missing 7) turned into country code 7."""
    digits = _NOT_DIGIT.sub("", phone or "")
    if not digits:
        return None
    if len(digits) == 11 and digits.startswith("8"):
        return "7" + digits[1:]
    if len(digits) == 10 and digits.startswith("9"):
        return "7" + digits
    return digits


def normalize_email(email: str) -> str | None:
    value = (email or "").strip().lower()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        return None
    return value


def normalize(kind: str, value: str) -> str | None:
    return normalize_phone(value) if kind == "phone" else normalize_email(value)
