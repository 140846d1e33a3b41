"""Relay connections over keyset pages, with opaque cursors and a lazily counted total."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

import orjson
import strawberry

from graph.errors import ApiError, TopCode
from graph.ids import urlsafe_b64
from graph.objects import described_field
from services.paging import Keyset, Page

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 100

# the arguments every connection takes, described once
First = Annotated[
    int | None,
    strawberry.argument(description="How many to return: 50 by default, at most 100 (more is a VALIDATION error)."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="The `endCursor` of the page before; from the start when left out."),
]


def page_size(first: int | None, last: int | None = None) -> int:
    """`first`/`last` default to 50 and may not exceed 100; both at once is refused (SPEC 5b)."""
    if first is not None and last is not None:
        raise ApiError(TopCode.VALIDATION, "first and last cannot be used together")
    size = first if first is not None else last
    if size is None:
        return DEFAULT_PAGE
    if not 0 <= size <= MAX_PAGE:
        raise ApiError(TopCode.VALIDATION, f"first and last must be between 0 and {MAX_PAGE}")
    return size


def _default(value: object) -> Any:
    if isinstance(value, date):
        return {"d": value.isoformat()}
    raise TypeError


def encode_cursor(key: Sequence[Any]) -> str:
    # orjson writes dates natively as bare strings; passing them through `_default` tags them for decoding
    return urlsafe_b64(orjson.dumps(list(key), default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)).decode()


def decode_cursor(cursor: str | None, keyset: Keyset) -> list[Any] | None:
    """The key a cursor holds; one that does not decode into a key of this list is VALIDATION (SPEC 12)."""
    if cursor is None:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        key = [_from_json(v) for v in values] if isinstance(values, list) else None
    except ValueError:  # bad base64 or JSON (orjson.JSONDecodeError is one), or no calendar date
        key = None
    if key is None or not keyset.accepts(key):
        raise ApiError(TopCode.VALIDATION, "cursor is malformed")
    return key


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("d"), str):
        return date.fromisoformat(value["d"])
    return value


@strawberry.type(description="Where a page lies in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow the last one of this page.")
    has_previous_page: bool = strawberry.field(description="Whether items come before the first one of this page.")
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item, for `before`; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item, for `after`; null on an empty page."
    )


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of the item, stable under inserts: pass it as `after` or `before`."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(
    description="One page of a list: `first` defaults to 50 and may not exceed 100; cursors are opaque and stable."
)
class Connection(Generic[T]):
    page_info: PageInfo = strawberry.field(description="Where this page lies, and the cursors to go on from.")
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in the list's order.")
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @described_field("How many items the whole list holds, over every page.")
    async def total_count(self) -> int:
        return await self.count_total()


def connection(
    page: Page[Any], keyset: Keyset, node: Callable[[Any], T], count_total: Callable[[], Awaitable[int]]
) -> Connection[T]:
    edges = [Edge(cursor=encode_cursor(keyset.key_of(row)), node=node(row)) for row in page.rows]
    return Connection(page_info=page_info(page, [edge.cursor for edge in edges]), edges=edges, count_total=count_total)


def page_info(page: Page[Any], cursors: Sequence[str]) -> PageInfo:
    """Where `page` lies, given its edges' cursors in order."""
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
