"""``UtcTimestamp``: the pydantic field type of a time that comes from outside.

Kept apart from :mod:`bot.core.clock` so that reading and writing time costs no
pydantic import (``resilio classify`` has none on its path).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from bot.core.clock import checked_utc

# A timestamp field or query parameter: parsed, range-checked, in UTC.
UtcTimestamp = Annotated[datetime, AfterValidator(checked_utc)]
