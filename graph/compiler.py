"""A selection of declared fields (`graph.declarations`) written as SQL that makes the answer's JSON text, so a page
of a list, or an object with its pages, is one statement and no Python object per row (PostGraphile's shape).

A document is compiled once, when it is planned (`edge.execution.Plan`): the selection below a field becomes a tree
of members (constants, declared fields, relations to one row of another type, connections of the row). Each
relation is a join (LEFT when the related row may be absent) of its table, or of an alias when that table is joined
already; a member a relation's `shown` rule hides is `null`. A connection (`ToMany`) is a subquery correlated to its
row that writes one page of the related rows with its cursors and `totalCount`; its arguments are bind parameters
(`n<index>_...`), and a request whose arguments only the field's resolver answers (`ToMany.compiled`), or refuses,
is answered by that resolver. A selection with any field declared `Python` is not compiled and is answered with
objects (`graph.objects.declared_view`, from the same declarations).

Three kinds of answer: the edges of a connection over a table (`compile_edges`), whose statements are built when
first asked for, one per source, keyset, whether the viewer sees every name and the nested connections' shapes, and
kept on the compiled edges (prebuilt for the driver), with `totalCount` in the page's statement when selected; one
row of a declared type (`compile_object`: `node(id:)`), with its connections; and a list of rows of a selectable
each request gives (`compile_rows`: `timeReport`'s groups), whose one statement is built for that request around it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    SelectionSetNode,
)
from orjson import Fragment
from sqlalchemy import (
    ARRAY,
    FromClause,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from db.driver import Prebuilt
from db.session import RequestDb
from graph.codecs import cursor_sql
from graph.declarations import DECLARATIONS, Column, Declaration, Derived, Python, ToMany, ToOne, Viewing
from graph.errors import ApiError
from graph.pagination import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from graph.strawberry_internals import get_argument_values
from services.auth import Viewer
from services.filters import Matching, PerCombination
from services.json_sql import FALSE, NULL, TRUE, Joined, json_constant, json_object, sql_text, utf8
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
    members: tuple[tuple[str, _Constant | Column | Derived | _Related | _Nested], ...]


@dataclass(frozen=True, slots=True)
class _Cursor:
    """The edge's cursor over the page's keyset."""


_EdgeMember: TypeAlias = _Constant | _Cursor | _Tree


@dataclass(frozen=True, slots=True)
class _Edges:
    members: tuple[tuple[str, _EdgeMember], ...]


@dataclass(frozen=True, slots=True)
class _PageInfo:
    members: tuple[tuple[str, str], ...]  # each key's field of PageInfo (`__typename` too)


@dataclass(frozen=True, slots=True)
class _Total:
    """`totalCount`."""


@dataclass(frozen=True, slots=True)
class _Also:
    """Another field of the connection (`ToMany.fields`)."""

    name: str


_ConnectionMember: TypeAlias = _Constant | _Edges | _PageInfo | _Total | _Also


@dataclass(frozen=True, slots=True, eq=False)
class _Nested:
    """A connection of a declared object (`ToMany`) compiled into its row's JSON: its selection, the field's
    definition and node (for the request's arguments) and its place among the document's nested connections, which
    names its bind parameters (`n<index>_...`)."""

    relation: ToMany
    definition: GraphQLField
    node: FieldNode
    index: int
    members: tuple[tuple[str, _ConnectionMember], ...]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a request's arguments change in a nested connection's SQL: whether it starts after a cursor, and the
    filters that apply."""

    after: bool
    filters: tuple[str, ...]


Shapes: TypeAlias = tuple[_Shape, ...]  # by nested connection, in index order


def _named(type_: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _tree(
    collect: Collect, parent: GraphQLObjectType, sets: list[SelectionSetNode], nested: list[_Nested] | None = None
) -> _Tree | None:
    """The declared members selected in `sets` of `parent`; None when any is not declared (or `Python`). A
    connection (`ToMany`) is a member when `nested` collects the document's nested connections."""
    declaration = DECLARATIONS.get(parent.name)
    if declaration is None:
        return None
    members: list[tuple[str, _Constant | Column | Derived | _Related | _Nested]] = []
    for key, nodes in collect(parent, sets).items():
        name = nodes[0].name.value
        if name == "__typename":
            members.append((key, _Constant(parent.name)))
            continue
        declared = declaration.fields.get(name)
        sub_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if isinstance(declared, ToMany):
            if nested is None or len(nodes) > 1:
                return None
            connection = _named(parent.fields[name].type)
            if not isinstance(connection, GraphQLObjectType):
                return None
            found = _nested(collect, declared, parent.fields[name], nodes[0], connection, sub_sets, nested)
            if found is None:
                return None
            members.append((key, found))
            continue
        if declared is None or isinstance(declared, Python) or any(node.arguments for node in nodes):
            return None
        if isinstance(declared, ToOne):
            target = _named(parent.fields[name].type)
            if not isinstance(target, GraphQLObjectType):
                return None
            related = _tree(collect, target, sub_sets, nested)
            if related is None:
                return None
            members.append((key, _Related(declared, related)))
        else:
            members.append((key, declared))
    return _Tree(declaration, tuple(members))


_PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"})


def _edge_members(
    collect: Collect, edge_type: GraphQLObjectType, sets: list[SelectionSetNode], nested: list[_Nested] | None
) -> tuple[tuple[str, _EdgeMember], ...] | None:
    """The members of an edge: its `__typename`, `cursor` and `node`; None when anything else is selected."""
    node_type = _named(edge_type.fields["node"].type)
    if not isinstance(node_type, GraphQLObjectType) or node_type.name not in DECLARATIONS:
        return None
    members: list[tuple[str, _EdgeMember]] = []
    for key, found in collect(edge_type, sets).items():
        name = found[0].name.value
        if name == "__typename":
            members.append((key, _Constant(edge_type.name)))
        elif name == "cursor":
            members.append((key, _Cursor()))
        elif name == "node":
            tree = _tree(collect, node_type, [n.selection_set for n in found if n.selection_set is not None], nested)
            if tree is None:
                return None
            members.append((key, tree))
        else:
            return None
    return tuple(members)


def _nested(
    collect: Collect,
    relation: ToMany,
    definition: GraphQLField,
    node: FieldNode,
    connection: GraphQLObjectType,
    sets: list[SelectionSetNode],
    nested: list[_Nested],
) -> _Nested | None:
    index = len(nested)
    nested.append(cast(_Nested, None))  # its place, taken before the connections below it
    members: list[tuple[str, _ConnectionMember]] = []
    for key, found in collect(connection, sets).items():
        name = found[0].name.value
        sub_sets = [n.selection_set for n in found if n.selection_set is not None]
        if name == "__typename":
            members.append((key, _Constant(connection.name)))
        elif name == "edges":
            edge_type = _named(connection.fields["edges"].type)
            if not isinstance(edge_type, GraphQLObjectType) or any(isinstance(m, _Edges) for _, m in members):
                return None  # edges under two keys: one page answers both, each as its own selection says
            edges = _edge_members(collect, edge_type, sub_sets, nested)
            if edges is None:
                return None
            members.append((key, _Edges(edges)))
        elif name == "pageInfo":
            info_type = _named(connection.fields["pageInfo"].type)
            assert isinstance(info_type, GraphQLObjectType)
            selected = {k: f[0].name.value for k, f in collect(info_type, sub_sets).items()}
            if not set(selected.values()) <= _PAGE_INFO:
                return None
            members.append((key, _PageInfo(tuple(selected.items()))))
        elif name == "totalCount":
            members.append((key, _Total()))
        elif name in relation.fields:
            members.append((key, _Also(name)))
        else:
            return None
    compiled = nested[index] = _Nested(relation, definition, node, index, tuple(members))
    return compiled


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
    shapes: Shapes = (),
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
        elif isinstance(member, _Nested):
            values.append((key, _connection(member, row, viewing, shapes)))
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
            written = _object(member.tree, target, joins, viewing, outer=absent, shapes=shapes)
            values.append((key, written if present is None else case((present, written), else_=NULL)))
    return json_object(values)


def _edge(
    members: Sequence[tuple[str, _EdgeMember]],
    base: Any,
    joins: _Joins,
    keyset: Keyset,
    viewing: Viewing,
    shapes: Shapes,
) -> ColumnElement[str]:
    """An edge of a connection over the rows of `base` as JSON text."""
    values: list[tuple[str, ColumnElement[str]]] = []
    for key, member in members:
        if isinstance(member, _Constant):
            values.append((key, json_constant(member.value)))
        elif isinstance(member, _Cursor):
            values.append((key, cursor_sql(keyset.columns)))
        else:
            values.append((key, _object(member, base.c, joins, viewing, shapes=shapes)))
    return json_object(values)


def _connection(nested: _Nested, row: Any, viewing: Viewing, shapes: Shapes) -> ColumnElement[str]:
    """The JSON text of the connection `nested` of the row `row`: one page of its related rows, read by a subquery
    of the row (PostgreSQL runs it for each row the statement writes), with the page's cursors and `totalCount`."""
    relation, shape, prefix = nested.relation, shapes[nested.index], f"n{nested.index}_"
    parent = next(iter(row)).table  # the row's table or alias: the subqueries correlate to it alone
    table = DECLARATIONS[relation.type_name].model.__table__
    if table is parent:
        raise TypeError(f"{relation.type_name}: a connection of rows of its own table")
    joins = _Joins(table)
    if isinstance(parent, Table):
        joins.tables.add(parent)  # a join of the parent's table below is an alias, not the parent itself
    keyset = relation.keyset
    within = viewing.within(relation.editing(row) if relation.editing is not None else None)
    where = [relation.of(table.c, row), *(relation.filters[name].condition for name in shape.filters)]
    key = tuple_(*keyset.columns)
    order = [column.desc() if keyset.descending else column.asc() for column in keyset.columns]
    bounded = list(where)
    if shape.after:
        bound = tuple_(*(bindparam(f"{prefix}after_{i}", type_=c.type) for i, c in enumerate(keyset.columns)))
        bounded.append(key < bound if keyset.descending else key > bound)
    edges = [member.members for _, member in nested.members if isinstance(member, _Edges)]
    edge = _edge(edges[0], table, joins, keyset, within, shapes) if edges else NULL
    ends = any(
        isinstance(member, _PageInfo) and {"startCursor", "endCursor"} & {name for _, name in member.members}
        for _, member in nested.members
    )
    # a row's cursor again beside its edge only when the page's first or last is asked for: it costs a base64
    cursor = [cursor_sql(keyset.columns).label("cursor")] if ends else []
    page = (
        select(edge.label("edge"), *cursor, func.row_number().over(order_by=order).label("rn"))
        .select_from(joins.joined)
        .where(*bounded)
        .order_by(*order)
        .limit(bindparam(f"{prefix}limit", type_=Integer, literal_execute=True))
        .correlate(parent)
        .subquery(f"n{nested.index}")
    )
    first = bindparam(f"{prefix}first", type_=Integer, literal_execute=True)
    in_page = page.c.rn <= first
    values: list[tuple[str, ColumnElement[str]]] = []
    for name, member in nested.members:
        if isinstance(member, _Constant):
            values.append((name, json_constant(member.value)))
        elif isinstance(member, _Edges):
            rows = func.string_agg(page.c.edge, aggregate_order_by(sql_text(","), page.c.rn)).filter(in_page)
            values.append((name, Joined([sql_text("["), func.coalesce(rows, sql_text("")), sql_text("]")])))
        elif isinstance(member, _PageInfo):
            info: list[tuple[str, ColumnElement[str]]] = []
            for info_key, field_name in member.members:
                if field_name == "__typename":
                    info.append((info_key, json_constant("PageInfo")))
                elif field_name == "hasNextPage":
                    info.append((info_key, case((func.count() > first, TRUE), else_=FALSE)))
                elif field_name == "hasPreviousPage":
                    info.append((info_key, TRUE if shape.after else FALSE))
                else:
                    rn = page.c.rn if field_name == "startCursor" else page.c.rn.desc()
                    chosen = func.array_agg(aggregate_order_by(page.c.cursor, rn)).filter(in_page)
                    info.append((info_key, func.coalesce(_first_of(chosen), NULL)))
            values.append((name, json_object(info)))
        elif isinstance(member, _Total):
            if relation.total is not None:
                values.append((name, sql_cast(relation.total(row), Text)))
            else:
                counted = select(func.count()).select_from(table).where(*where).correlate(parent).scalar_subquery()
                values.append((name, sql_cast(counted, Text)))
        else:
            values.append((name, relation.fields[member.name](row)))
    return select(json_object(values)).select_from(page).correlate(parent).scalar_subquery()


def _first_of(array: Any) -> ColumnElement[str]:
    """The first item of a text array (NULL when it has none)."""
    return type_coerce(array, ARRAY(Text))[1]


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
    nested: tuple[_Nested, ...] = ()  # the connections of its nodes, compiled into each node's JSON
    # by the ids of a source and a keyset, each kept beside its statement: the statements of this document
    _statements: dict[tuple[int, int, bool, bool, Shapes], tuple[Source, Keyset, Ordered]] = field(default_factory=dict)
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

    def answers(self, variables: Any) -> bool:
        """Whether the request's arguments of the nested connections are ones the compiled statement answers."""
        return not self.nested or _requested(self.nested, variables) is not None

    def statement(
        self, source: Source, keyset: Keyset, viewing: Viewing, *, counted: bool = False, shapes: Shapes = ()
    ) -> Ordered:
        """The SELECT of `source`'s rows in the keyset's order for the viewer, built (and prebuilt) once per variant
        of a kept source; `counted`: each row ends with the source's count (`_select`)."""
        if not source.kept:
            return Ordered(self._select(source, keyset, viewing, counted, shapes), keyset, prebuild=False)
        key = (id(source), id(keyset), viewing.sees_all, counted, shapes)
        found = self._statements.get(key)
        if found is None or found[0] is not source or found[1] is not keyset:
            built = Ordered(self._select(source, keyset, viewing, counted, shapes), keyset)
            found = self._statements[key] = (source, keyset, built)
        return found[2]

    def _select(self, source: Source, keyset: Keyset, viewing: Viewing, counted: bool, shapes: Shapes) -> AnySelect:
        stmt = self._build(keyset, viewing, shapes).where(source.where)
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
        variables: Any = None,
    ) -> Connection[Any]:
        """A connection's page (`page`) with its `totalCount`: when selected, counted by the page's own statement,
        or by a statement of its own (`total`) when the page could not tell it."""
        written = await self.page(
            db,
            source,
            keyset,
            window,
            viewer=viewer,
            visibility=visibility,
            params=params,
            variables=variables,
            counted=self.counted,
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
        variables: Any = None,
        counted: bool = False,
    ) -> EdgesPage:
        """One page of `source` in the keyset's order for `viewer`, who sees names as `visibility` says and may edit
        entries unless `editing` is false (a STATIC list); `params` fills the source's own parameters. `counted`:
        the statement counts the source's rows too, the page's `total` unless it read no row (`_total`);
        `variables`, the request's, give the nested connections' arguments (`answers` them first)."""
        viewing = Viewing.of(visibility)
        values = {**(params or {}), **Viewing.parameters(visibility, viewer, editing=editing)}
        shapes = _with_nested(self.nested, variables, values)
        ordered = self.statement(source, keyset, viewing, counted=counted, shapes=shapes)
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

    def _build(self, keyset: Keyset, viewing: Viewing, shapes: Shapes) -> AnySelect:
        joins = _Joins(self.base.__table__)
        edge = utf8(_edge(self.members, self.base.__table__, joins, keyset, viewing, shapes)).label("edge")
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


def _requested(nested: Sequence[_Nested], variables: Any) -> tuple[Shapes, dict[str, Any]] | None:
    """The shapes of the nested connections and their bind parameters for a request's arguments; None when any asks
    for what only its resolver answers, or what it refuses (its resolver then says why)."""
    shapes: list[_Shape] = []
    params: dict[str, Any] = {}
    for one in nested:
        relation, prefix = one.relation, f"n{one.index}_"
        arguments = get_argument_values(one.definition, one.node, variables)
        if not relation.compiled(arguments):
            return None
        try:
            size = page_size(arguments.get("first"))
            after = decode_cursor(arguments.get("after"), relation.keyset)
        except ApiError:
            return None
        params[f"{prefix}first"], params[f"{prefix}limit"] = size, size + 1
        for i, value in enumerate(after or ()):
            params[f"{prefix}after_{i}"] = value
        applied = tuple(name for name, found in relation.filters.items() if found.applies(arguments.get(name)))
        shapes.append(_Shape(after is not None, applied))
    return tuple(shapes), params


def _with_nested(nested: Sequence[_Nested], variables: Any, values: dict[str, Any]) -> Shapes:
    """The shapes of the nested connections for a request's arguments, their bind parameters added to `values`."""
    if not nested:
        return ()
    requested = _requested(nested, variables)
    if requested is None:
        raise ValueError("arguments the compiled statement does not answer: ask `answers` first")
    values.update(requested[1])
    return requested[0]


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
    nested: list[_Nested] = []
    members = _edge_members(collect, edge_type, [n.selection_set for n in edges[0] if n.selection_set], nested)
    if members is None:
        return None
    counted = any(found[0].name.value == "totalCount" for found in selected.values())
    return CompiledEdges(DECLARATIONS[node_type.name].model, members, counted, tuple(nested))


@dataclass(slots=True)
class CompiledObject:
    """One row of a declared type (`node(id:)`) written by PostgreSQL as UTF-8 JSON with everything selected of it,
    its connections too: the object and its pages are one statement, as PostGraphile plans them."""

    tree: _Tree
    nested: tuple[_Nested, ...]
    _statements: dict[tuple[bool, Shapes], Prebuilt] = field(default_factory=dict)

    def answers(self, variables: Any) -> bool:
        """Whether the request's arguments of the connections are ones the compiled statement answers."""
        return not self.nested or _requested(self.nested, variables) is not None

    def statement(self, viewing: Viewing, shapes: Shapes) -> Prebuilt:
        """The row `:id` as JSON; whether the viewer may see it at all (`Declaration.seen`) is asked before."""
        key = (viewing.sees_all, shapes)
        found = self._statements.get(key)
        if found is None:
            declaration = self.tree.declaration
            table = declaration.model.__table__
            joins = _Joins(table)
            value = utf8(_object(self.tree, table.c, joins, viewing, shapes=shapes))
            stmt = select(value).select_from(joins.joined).where(table.c.id == bindparam("id", type_=table.c.id.type))
            found = self._statements[key] = Prebuilt(stmt)
        return found

    async def one(
        self, db: RequestDb, db_id: int, *, viewer: Viewer | None, visibility: Visibility, variables: Any
    ) -> Fragment | None:
        """The row `db_id` as the selection asks, None when there is none or the viewer may not see it."""
        viewing = Viewing.of(visibility)
        values = {"id": db_id, **Viewing.parameters(visibility, viewer, editing=True)}
        shapes = _with_nested(self.nested, variables, values)
        async with db.reader() as reader:
            records = await self.statement(viewing, shapes).records(reader, values)
        return Fragment(records[0][0]) if records else None


@dataclass(frozen=True, slots=True)
class CompiledObjects:
    """What a field of an abstract type (`node`) selects of each declared type it may answer."""

    by_type: Mapping[str, CompiledObject]


def compile_object(collect: Collect, parent: GraphQLObjectType, nodes: Sequence[FieldNode]) -> CompiledObject | None:
    """The selection of the declared type `parent` below the field `nodes` (a `node(id:)` that is one), when every
    field is declared; None otherwise."""
    declaration = DECLARATIONS.get(parent.name)
    if declaration is None or declaration.model is None:
        return None
    nested: list[_Nested] = []
    tree = _tree(collect, parent, [node.selection_set for node in nodes if node.selection_set is not None], nested)
    return None if tree is None else CompiledObject(tree, tuple(nested))


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
