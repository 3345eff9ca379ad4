"""Durations in settings: ISO 8601 (``P90D``, ``PT5S``), seconds, or ``90d`` / ``15m`` / ``5s``.

Pydantic reads ISO 8601 and ``[D days, ]HH:MM:SS`` by itself, but not a bare number of
seconds nor the short forms people write in environment files; this adds both.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_SHORT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> Any:
    """Turn seconds and short forms into a ``timedelta``; leave anything else to pydantic."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return timedelta(seconds=float(text))
        except ValueError:
            pass
        if match := _SHORT.match(text):
            amount, unit = match.groups()
            return timedelta(seconds=float(amount) * _UNIT_SECONDS[unit.lower()])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
"""A ``timedelta`` setting that also accepts seconds and ``90d`` / ``12h`` / ``15m`` / ``5s``."""
