"""A selection of declared fields (`graph.declarations`) written as SQL that makes the answer's JSON text, so a page
of a list is one statement and no Python object per row.

A document is compiled once, when it is planned (`edge.execution.Plan`): the selection below a list field becomes a
tree of members (constants, declared fields, relations to one row of another type). Each relation is a join (LEFT
when the related row may be absent) of its table, or of an alias when that table is joined already; a member a
relation's `shown` rule hides is `null`. A selection with any field declared `Python`, or with arguments, is not
compiled and the list is answered with objects.

Two kinds of list: the edges of a connection over a table (`compile_edges`), whose statements are built from the tree
when first asked for, one per source, keyset and whether the viewer sees every name, and kept on the compiled edges
(with their page variants and counts, prebuilt for the driver); a connection that selects `totalCount` has its count
in its page's statement, so the page and its total are one statement; and a
list of rows of a selectable each request gives (`compile_rows`: `timeReport`'s groups), whose one statement is built
for that request around its selectable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from graphql import FieldNode, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType, SelectionSetNode
from orjson import Fragment
from sqlalchemy import FromClause, Table, and_, case, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from db.session import RequestDb
from graph.codecs import cursor_sql
from graph.declarations import DECLARATIONS, Column, Declaration, Derived, Python, ToOne, Viewing
from graph.pagination import Connection, Edge, PageInfo, encode_cursor
from services.auth import Viewer
from services.filters import Matching, PerCombination
from services.json_sql import NULL, Joined, json_constant, json_object, sql_text, utf8
from services.paging import AnySelect, Keyset, Ordered, Page, Total, Window
from services.visibility import Visibility

Collect: TypeAlias = Callable[[GraphQLObjectType, list[SelectionSetNode]], dict[str, list[FieldNode]]]
Counted: TypeAlias = Callable[[], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class _Constant:
    value: str


@dataclass(frozen=True, slots=True)
class _Related:
    relation: ToOne
    tree: _Tree


@dataclass(frozen=True, slots=True)
class _Tree:
    """The selected members of one declared object, in the answer's order."""

    declaration: Declaration
    members: tuple[tuple[str, _Constant | Column | Derived | _Related], ...]


@dataclass(frozen=True, slots=True)
class _Cursor:
    """The edge's cursor over the page's keyset."""


_EdgeMember: TypeAlias = _Constant | _Cursor | _Tree


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _tree(collect: Collect, parent: GraphQLObjectType, sets: list[SelectionSetNode]) -> _Tree | None:
    declaration = DECLARATIONS.get(parent.name)
    if declaration is None:
        return None
    members: list[tuple[str, _Constant | Column | Derived | _Related]] = []
    for key, nodes in collect(parent, sets).items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append((key, _Constant(parent.name)))
            continue
        declared = declaration.fields.get(name)
        if declared is None or isinstance(declared, Python) or any(node.arguments for node in nodes):
            return None
        if isinstance(declared, ToOne):
            target = _named(parent.fields[name].type)
            sub_sets = [node.selection_set for node in nodes if node.selection_set is not None]
            if not isinstance(target, GraphQLObjectType):
                return None
            related = _tree(collect, target, sub_sets)
            if related is None:
                return None
            members.append((key, _Related(declared, related)))
        else:
            members.append((key, declared))
    return _Tree(declaration, tuple(members))


@dataclass(slots=True)
class _Joins:
    """The FROM clause a tree needs: the base (a table, or a selectable given at run time) and a join per relation,
    LEFT when the related row may be absent (a nullable key, or an absent row above it)."""

    joined: Any
    tables: set[Any] = field(default_factory=set)  # the tables in the FROM clause already, by themselves

    def __post_init__(self) -> None:
        if isinstance(self.joined, Table):
            self.tables.add(self.joined)

    def join(self, relation: ToOne, row: Any, *, outer: bool) -> Any:
        """The related row's columns: of its table, or of an alias when the table is joined already. Neither is
        the mapped class's alias, whose columns cost ~50 µs a request to set up (a report's statement is built
        for each)."""
        table = DECLARATIONS[relation.type_name].model.__table__
        target = table if table not in self.tables else table.alias()
        self.tables.add(table)
        on = target.c.id == getattr(row, relation.key)
        self.joined = self.joined.outerjoin(target, on) if outer else self.joined.join(target, on)
        return target.c


def _nullable(row: Any, name: str) -> bool:
    # a column of a selectable given at run time may not know: it is then tested
    return bool(getattr(getattr(row, name), "nullable", True))


def _object(
    tree: _Tree,
    row: Any,
    joins: _Joins,
    viewing: Viewing,
    *,
    outer: bool = False,
    null_columns: Collection[str] = (),
) -> ColumnElement[str]:
    """The row's members as a JSON object; `outer`: the row was reached through a LEFT JOIN, so every join below it
    is one too; `null_columns`: the row's columns NULL in every row, written `null` without a test or a join."""
    values: list[tuple[str, ColumnElement[str]]] = []
    for key, member in tree.members:
        if isinstance(member, _Constant):
            values.append((key, json_constant(member.value)))
        elif isinstance(member, Column):
            if member.name in null_columns:
                values.append((key, NULL))
                continue
            values.append((key, member.codec.sql(getattr(row, member.name), nullable=_nullable(row, member.name))))
        elif isinstance(member, Derived):
            values.append((key, member.codec.sql(member.expression(row, viewing), nullable=member.nullable)))
        else:
            relation = member.relation
            if relation.key in null_columns:
                values.append((key, NULL))
                continue
            absent = outer or _nullable(row, relation.key)
            present: ColumnElement[bool] | None = None
            if _nullable(row, relation.key):
                present = getattr(row, relation.key).is_not(None)
            if relation.shown is not None:
                shown = relation.shown.sql(row, viewing)
                present = shown if present is None else and_(present, shown)
            target = joins.join(relation, row, outer=absent)
            written = _object(member.tree, target, joins, viewing, outer=absent)
            values.append((key, written if present is None else case((present, written), else_=NULL)))
    return json_object(values)


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """Which rows a list holds: a condition on its base table. A source declared once (a module's constant, or a
    combination of a list's declared filters), its values bind parameters each request fills, has its statements
    kept and prebuilt; one made for a request (`kept` false) is built for that request only."""

    where: ColumnElement[bool]
    kept: bool = True

    @staticmethod
    def matching(filters: Matching) -> tuple[Source, dict[str, Any]]:
        """The rows meeting a request's filters (`services.filters`), and the values to bind.

        The source is the one of the combination of declared filters the request uses, made when a request first
        used it and kept on it, so its statements are built and prebuilt once: building a page's statement anew
        costs more than running it."""
        return _SOURCES.of(filters), filters.values


EVERY_ROW = Source(true())
_SOURCES = PerCombination(lambda combination: EVERY_ROW if combination.where is None else Source(combination.where))


@dataclass(frozen=True, slots=True)
class EdgesPage:
    edges: Fragment  # the JSON array of the page's edges
    has_next: bool
    has_previous: bool
    first_key: list[Any] | None  # the keyset's key of the first and last rows, for the page's cursors
    last_key: list[Any] | None
    total: int | None = None  # how many rows the source holds, when the page's statement counted them

    def page_info(self) -> PageInfo:
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.has_previous,
            start_cursor=None if self.first_key is None else encode_cursor(self.first_key),
            end_cursor=None if self.last_key is None else encode_cursor(self.last_key),
        )

    def connection(self, count_total: Callable[[], Awaitable[int]]) -> Connection[Any]:
        """The page as a connection whose edges are the JSON text (`edge.execution` passes it on as it is)."""
        return Connection(page_info=self.page_info(), edges=cast(list[Edge[Any]], self.edges), count_total=count_total)


@dataclass(slots=True)
class CompiledEdges:
    """`edges { ... }` of a connection whose nodes are rows of `base`, each edge written by PostgreSQL as UTF-8
    JSON; `statement` is the page's SELECT of the edge and then the keyset's key, FROM the base and its joins.
    `counted`: the connection selects `totalCount`, which `connection` then has its page's statement count."""

    base: Any
    members: tuple[tuple[str, _EdgeMember], ...]
    counted: bool = False
    # by the ids of a source and a keyset, each kept beside its statement: the statements of this document
    _statements: dict[tuple[int, int, bool, bool], tuple[Source, Keyset, Ordered]] = field(default_factory=dict)
    _counts: dict[int, tuple[Source, Total]] = field(default_factory=dict)

    def _count(self, source: Source) -> AnySelect:
        """`count(*)` of the rows `source` holds: the base's rows meeting its condition, joined to nothing."""
        return select(func.count()).select_from(self.base.__table__).where(source.where)

    def total(self, db: RequestDb, source: Source, params: Mapping[str, Any] | None = None) -> Counted:
        """`totalCount`: how many rows `source` holds, counted when asked, on the request's link like the page."""
        found = self._counts.get(id(source))
        if found is None or found[0] is not source:
            found = (source, Total.of(self._count(source)))
            if source.kept:
                self._counts[id(source)] = found
        total = found[1]

        async def count() -> int:
            async with db.reader() as reader:
                return await total(reader, params)

        return count

    def statement(self, source: Source, keyset: Keyset, viewing: Viewing, *, counted: bool = False) -> Ordered:
        """The SELECT of `source`'s rows in the keyset's order for the viewer, built (and prebuilt) once per variant
        of a kept source; `counted`: each row ends with the source's count (`_select`)."""
        if not source.kept:
            return Ordered(self._select(source, keyset, viewing, counted=counted), keyset, prebuild=False)
        key = (id(source), id(keyset), viewing.sees_all, counted)
        found = self._statements.get(key)
        if found is None or found[0] is not source or found[1] is not keyset:
            built = Ordered(self._select(source, keyset, viewing, counted=counted), keyset)
            found = self._statements[key] = (source, keyset, built)
        return found[2]

    def _select(self, source: Source, keyset: Keyset, viewing: Viewing, *, counted: bool) -> AnySelect:
        stmt = self._build(keyset, viewing).where(source.where)
        if not counted:
            return stmt
        # uncorrelated (its own FROM of the base, not the page's row): PostgreSQL runs it once for the statement (an
        # InitPlan), with the source's own parameters; the page's bounds, order and LIMIT stay outside it
        return stmt.add_columns(self._count(source).correlate(None).scalar_subquery().label("total"))

    async def connection(
        self,
        db: RequestDb,
        source: Source,
        keyset: Keyset,
        window: Window,
        *,
        viewer: Viewer | None,
        visibility: Visibility,
        params: Mapping[str, Any] | None = None,
    ) -> Connection[Any]:
        """A connection's page (`page`) with its `totalCount`: when selected, counted by the page's own statement,
        or by a statement of its own (`total`) when the page could not tell it."""
        written = await self.page(
            db, source, keyset, window, viewer=viewer, visibility=visibility, params=params, counted=self.counted
        )
        if written.total is None:
            return written.connection(self.total(db, source, params))
        total = written.total

        async def known() -> int:
            return total

        return written.connection(known)

    async def page(
        self,
        db: RequestDb,
        source: Source,
        keyset: Keyset,
        window: Window,
        *,
        viewer: Viewer | None,
        visibility: Visibility,
        editing: bool = True,
        params: Mapping[str, Any] | None = None,
        counted: bool = False,
    ) -> EdgesPage:
        """One page of `source` in the keyset's order for `viewer`, who sees names as `visibility` says and may edit
        entries unless `editing` is false (a STATIC list); `params` fills the source's own parameters. `counted`:
        the statement counts the source's rows too, the page's `total` unless it read no row (`_total`)."""
        viewing = Viewing.of(visibility)
        values = {**(params or {}), **Viewing.parameters(visibility, viewer, editing=editing)}
        ordered = self.statement(source, keyset, viewing, counted=counted)
        async with db.reader() as reader:
            page = await ordered.page(reader, window, params=values, by_position=True)
        rows: list[Any] = page.rows  # by position: the edge, the keyset's key, then the count when `counted`
        end = 1 + len(keyset.columns)
        keys = [list(row[1:end]) for row in (rows[:1] + rows[-1:])]
        return EdgesPage(
            edges=Fragment(b"[" + b",".join(row[0] for row in rows) + b"]"),
            has_next=page.has_next,
            has_previous=page.has_previous,
            first_key=keys[0] if keys else None,
            last_key=keys[-1] if keys else None,
            total=_total(page, window) if counted else None,
        )

    def _build(self, keyset: Keyset, viewing: Viewing) -> AnySelect:
        joins = _Joins(self.base.__table__)
        values: list[tuple[str, ColumnElement[str]]] = []
        for key, member in self.members:
            if isinstance(member, _Constant):
                values.append((key, json_constant(member.value)))
            elif isinstance(member, _Cursor):
                values.append((key, cursor_sql(keyset.columns)))
            else:
                values.append((key, _object(member, self.base.__table__.c, joins, viewing)))
        edge = utf8(json_object(values)).label("edge")
        keys = [column.label(f"key_{i}") for i, column in enumerate(keyset.columns)]
        return select(edge, *keys).select_from(joins.joined)


def _total(page: Page[Any], window: Window) -> int | None:
    """The count a counted page's statement read: in every row (its last column), so in any row it read, the one
    past the page too (a page of size 0). No row read: none when a cursor bounded the page (the rows may lie on
    its other side); 0 when none did, as the page is then every row the source holds, which the count counts: the
    page's joins (on NOT NULL foreign keys, or LEFT) keep every row, the viewer's rules (`Viewing`) hide a row's
    members and never the row, and a list's own visibility condition is in the source, in both."""
    read = page.rows[-1] if page.rows else page.beyond
    if read is not None:
        return int(read[-1])
    return 0 if window.after is None and window.before is None else None


def compile_edges(collect: Collect, connection: GraphQLObjectType, nodes: Sequence[FieldNode]) -> CompiledEdges | None:
    """The `edges` selected below the connection field `nodes`, when every field is declared; None otherwise.
    Whether `totalCount` is selected beside them decides whether the page's statement counts the source's rows."""
    sets = [node.selection_set for node in nodes if node.selection_set is not None]
    selected = collect(connection, sets)
    edges = [found for key, found in selected.items() if found[0].name.value == "edges"]
    if len(edges) != 1:
        return None
    edge_type = _named(connection.fields["edges"].type)
    if not isinstance(edge_type, GraphQLObjectType):
        return None
    node_type = _named(edge_type.fields["node"].type)
    if not isinstance(node_type, GraphQLObjectType) or node_type.name not in DECLARATIONS:
        return None
    members: list[tuple[str, _EdgeMember]] = []
    edge_sets = [node.selection_set for node in edges[0] if node.selection_set is not None]
    for key, found in collect(edge_type, edge_sets).items():
        name = found[0].name.value
        if name == "__typename":
            members.append((key, _Constant(edge_type.name)))
        elif name == "cursor":
            members.append((key, _Cursor()))
        elif name == "node":
            tree = _tree(collect, node_type, [n.selection_set for n in found if n.selection_set is not None])
            if tree is None:
                return None
            members.append((key, tree))
        else:
            return None
    counted = any(found[0].name.value == "totalCount" for found in selected.values())
    return CompiledEdges(DECLARATIONS[node_type.name].model, tuple(members), counted)


@dataclass(frozen=True, slots=True)
class WrittenRows:
    """What `CompiledRows.rows` read: the list, and the statement's other columns."""

    rows: Fragment  # the JSON array of the rows
    also: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CompiledRows:
    """A list of rows of a declaration without a model (`timeReport`'s groups): the rows come from a selectable each
    request gives, and PostgreSQL writes the whole list as one UTF-8 JSON array while it reads them."""

    tree: _Tree

    def statement(
        self,
        base: FromClause,
        order: Sequence[ColumnElement[Any]],
        viewing: Viewing,
        *,
        null_columns: Collection[str] = (),
        also: Sequence[ColumnElement[Any]] = (),
    ) -> AnySelect:
        """One row: the JSON array of `base`'s rows in `order`, then `also` (aggregates of `base`); `null_columns`:
        the columns of `base` NULL in every row."""
        joins = _Joins(base)
        item = _object(self.tree, base.c, joins, viewing, null_columns=null_columns)
        separator = sql_text(",")
        rows = func.string_agg(item, aggregate_order_by(separator, *order) if order else separator)
        array = utf8(Joined([sql_text("["), func.coalesce(rows, sql_text("")), sql_text("]")]))
        return select(array, *also).select_from(joins.joined)

    async def rows(
        self,
        session: AsyncSession,
        base: FromClause,
        order: Sequence[ColumnElement[Any]],
        *,
        visibility: Visibility,
        null_columns: Collection[str] = (),
        also: Sequence[ColumnElement[Any]] = (),
    ) -> WrittenRows:
        """The rows of `base` for a viewer with `visibility`, nobody editing; run with its values written in."""
        viewing = Viewing.of(visibility)
        stmt = self.statement(base, order, viewing, null_columns=null_columns, also=also)
        stmt = stmt.params(Viewing.parameters(visibility, None, editing=False))
        connection = await session.connection()
        # written with its values: PostgreSQL moves a prepared statement with parameters it has run five times to a
        # generic plan, which for a report evaluates ~30 parameters for each of thousands of rows (~1.4x the time); a
        # statement without parameters has nothing to generalise, its one plan is for its values
        sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        row: Any = (await connection.exec_driver_sql(str(sql))).one()
        return WrittenRows(Fragment(row[0]), tuple(row[1:]))


def _rows_of(type_: GraphQLOutputType) -> GraphQLObjectType | None:
    """The item type of a list of rows of a declaration without a model."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLList):
        return None
    item = _named(type_)
    if not isinstance(item, GraphQLObjectType) or item.name not in DECLARATIONS:
        return None
    return item if DECLARATIONS[item.name].model is None else None


def compile_rows(collect: Collect, holder: GraphQLObjectType, nodes: Sequence[FieldNode]) -> CompiledRows | None:
    """The one list of rows of a declaration without a model selected in the object the field `nodes` answers (as
    `timeReport`'s `rows`), when every field is declared; None otherwise. The list is one value of the object, so
    it is compiled only when selected under one key."""
    sets = [node.selection_set for node in nodes if node.selection_set is not None]
    lists: list[tuple[GraphQLObjectType, list[FieldNode]]] = []
    for found in collect(holder, sets).values():
        name = found[0].name.value
        item = None if name.startswith("__") else _rows_of(holder.fields[name].type)
        if item is not None:
            lists.append((item, found))
    if len(lists) != 1 or any(node.arguments for node in lists[0][1]):
        return None
    item, found = lists[0]
    tree = _tree(collect, item, [node.selection_set for node in found if node.selection_set is not None])
    return None if tree is None else CompiledRows(tree)
