"""GitHub's page-number pagination and its ``Link`` header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    link: str | None


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


def paginate(items: Sequence[T], url: str, query: QueryParams) -> Page[T]:
    """Cut out the asked page; ``per_page`` defaults to 30 and is capped at 100.

    The Link header lists ``prev``, ``next``, ``last`` and ``first`` as they apply, each a
    copy of the request's URL with its other parameters kept; one page needs no header.
    """
    per_page = min(_positive_int(query.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    page = _positive_int(query.get("page"), 1)
    last = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    chosen = list(items[start : start + per_page])
    relations: list[tuple[str, int]] = []
    if page > 1:
        relations.append(("prev", page - 1))
    if page < last:
        relations += [("next", page + 1), ("last", last)]
    if page > 1:
        relations.append(("first", 1))
    if not relations:
        return Page(chosen, None)
    kept = [(k, v) for k, v in query.multi_items() if k != "page"]

    def link_to(number: int) -> str:
        return f"{url}?{urlencode([*kept, ('page', str(number))])}"

    link = ", ".join(f'<{link_to(number)}>; rel="{rel}"' for rel, number in relations)
    return Page(chosen, link)
