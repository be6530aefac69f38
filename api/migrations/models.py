"""Imports every module that declares tables, so the metadata is complete."""

import crm.models  # noqa: F401
import engine.models  # noqa: F401
import robots.actions.tables
import robots.models  # noqa: F401
import triggers.models  # noqa: F401
from crm.db import Base

metadata = Base.metadata
