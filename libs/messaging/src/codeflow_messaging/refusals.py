"""The relay's side of setting aside outbox rows Kafka refuses (ADR 0011): count each
refusal on its row, set the row aside at the limit, and tell the operator what to do.

The operator's side (list, retry, discard) is :mod:`codeflow_messaging.outbox_admin`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger("codeflow.outbox")

# One statement for a round's refused rows, each with its own error; a row reaching the limit
# is set aside in the same statement. RETURNING gives what the log line names.
_RECORD = text(
    """
    UPDATE outbox SET
        attempts = attempts + 1,
        refusals = refusals + 1,
        last_error = refused.error,
        set_aside_at = CASE WHEN refusals + 1 >= :max_refusals THEN now() END
    FROM unnest(CAST(:ids AS bigint[]), CAST(:errors AS text[])) AS refused (id, error)
    WHERE outbox.id = refused.id
    RETURNING outbox.id, outbox.message_id, outbox.message_type, outbox.key, outbox.topic,
              outbox.refusals, outbox.last_error, outbox.set_aside_at IS NOT NULL AS set_aside
    """
)


@dataclass(frozen=True)
class SetAside:
    """A row just set aside, as the log line names it."""

    id: int
    message_id: UUID
    message_type: str
    key: str
    topic: str
    refusals: int
    last_error: str


async def record_refusals(
    session: AsyncSession, refused: dict[int, BaseException], max_refusals: int
) -> list[SetAside]:
    """Count a refusal on each row (its error in ``last_error``), in the caller's
    transaction; a row refused ``max_refusals`` times is set aside. Returns the rows set
    aside now."""
    if not refused:
        return []
    result = await session.execute(
        _RECORD,
        {
            "ids": list(refused),
            "errors": [repr(error) for error in refused.values()],
            "max_refusals": max_refusals,
        },
    )
    return [
        SetAside(
            row.id,
            row.message_id,
            row.message_type,
            row.key,
            row.topic,
            row.refusals,
            row.last_error,
        )
        for row in result
        if row.set_aside
    ]


def log_set_aside(row: SetAside) -> None:
    """Say at ERROR that ``row`` is set aside, and how to retry or discard it."""
    logger.error(
        "outbox relay: set aside outbox row %(id)d (message %(message_id)s, type "
        "%(message_type)s, key %(key)r, topic %(topic)s) after %(refusals)d refusal(s): "
        "%(last_error)s. Kafka refuses this record, so it is no longer tried, and its key's "
        "later messages wait behind it. Once the cause is fixed, publish it with "
        "`python -m codeflow_messaging outbox retry %(id)d`; or drop it, releasing the "
        "messages behind it, with `python -m codeflow_messaging outbox discard %(id)d` "
        "(--database-url, default $DATABASE_URL).",
        asdict(row),
    )
