"""The one door through which expressions read application objects.

The evaluator never walks Python attributes: it reads mappings by key and objects that
subclass `Record` through `dsl_get`. Whatever a Record does not expose, an expression
cannot reach.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Record(ABC):
    """An object whose fields expressions may read (`deal.amount`, `deal.contact.phone`)."""

    #: The name shown in error messages ("deal has no field 'x'").
    dsl_type: str = "record"

    @abstractmethod
    def dsl_get(self, name: str) -> Any:
        """Return field `name`; raise KeyError if the record has no such field."""

    def dsl_fields(self) -> list[str]:
        """The field names this record exposes, for completion and validation."""
        return []
