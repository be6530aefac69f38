"""Query parameters that name a user or department by id or by login/code."""

from __future__ import annotations


def ref(text: str) -> int | str:
    """An id if the text is one, else a login or code."""
    return int(text) if text.isascii() and text.isdigit() else text
