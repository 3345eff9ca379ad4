"""A hot read run by the driver itself: the statement built once, its SQL compiled once, its
rows taken as asyncpg hands them over (ADR 0045).

For the dashboard's page of twenty rows, SQLAlchemy's Core spent about 90 µs of CPU a query
on top of asyncpg's own work: the cursor it emulates over asyncpg, its result and its rows.
For a statement whose parameters and columns SQLAlchemy passes through unchanged, that layer
adds nothing to the answer. :class:`PlainQuery` keeps SQLAlchemy for everything else:

- the pool and the checkout (the connection is a ``ReadConnection``'s);
- the statement, written as an expression, and its SQL, compiled once for asyncpg;
- the query's span when this process records traces: the statement then runs through
  SQLAlchemy, whose instrumentation makes the span (ADR 0027);
- what a failure means: when the driver raises, the statement runs once more through
  SQLAlchemy on the same connection. A dead connection then invalidates the pool and answers
  503, as any other statement's does (ADR 0008), and any other error is raised as
  SQLAlchemy raises it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from codeflow_service.tracing import tracing_recorded

logger = logging.getLogger("codeflow.service")

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class PlainQuery:
    """A ``SELECT`` whose rows the driver returns as they are; build it once, at import.

    Raises ``TypeError`` for a statement SQLAlchemy would change on its way: a parameter or a
    column whose type converts values for asyncpg, or a parameter expanded into a list
    (``IN``). Those need SQLAlchemy's own execution.
    """

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        converted = [
            f"parameter {name!r}"
            for name, bind in compiled.binds.items()
            if bind.expanding or bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        ] + [
            f"column {column.key!r}"
            for column in statement.selected_columns
            if column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
        ]
        if converted:
            raise TypeError(
                "SQLAlchemy converts the values of "
                + ", ".join(converted)
                + ": run this statement through SQLAlchemy, not as a PlainQuery"
            )
        self.statement = statement
        self.sql = str(compiled)
        self.parameters: tuple[str, ...] = tuple(compiled.positiontup or ())

    async def rows(
        self, connection: AsyncConnection, parameters: Mapping[str, Any]
    ) -> Sequence[Mapping[str, Any]]:
        """The statement's rows on ``connection``, each a mapping of column name to value
        (asyncpg's records; SQLAlchemy's row mappings when the statement went through it)."""
        if not tracing_recorded():
            raw = await connection.get_raw_connection()
            driver = cast("asyncpg.Connection", raw.driver_connection)
            try:
                rows: Sequence[Mapping[str, Any]] = await driver.fetch(
                    self.sql, *(parameters[name] for name in self.parameters)
                )
            except Exception as exc:
                logger.debug("a plain read failed (%r); running it through SQLAlchemy", exc)
            else:
                return rows
        result = await connection.execute(self.statement, dict(parameters))
        mappings: Sequence[Mapping[str, Any]] = result.mappings().all()
        return mappings
