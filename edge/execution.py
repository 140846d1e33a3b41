"""A lean executor for queries whose answer has no error, with graphql-core as the authority for everything else.

graphql-core spends ~6 µs on every field of an answer (resolve info, paths, awaitable checks, the incremental
delivery machinery), so a 50-row page of ~400 fields cost more than the SQL and HTTP around it. A document is
planned here once (fields collected and merged per type, each field's completion chosen from its type) and a
request then walks the plan: a field without a resolver is an attribute read, a leaf of a built-in scalar keeps a
value of the right Python type as it is, and only fields with resolvers get a `GraphQLResolveInfo` and arguments.
A selection whose fields are all attributes with nothing below needing a path (report rows, the debtor and employee
they name) is walked by a function written out for it (`_walker`), leaves coerced inline, and an object reached as a
field's value (not a list's item) answered once per run however many rows name it.

The walk answers only when nothing went wrong. Any exception, a null in a non-null position, a value a scalar
refuses or an unexpected runtime type marks the run as failed, every pending awaitable is still awaited, and the
caller runs graphql-core's `execute` on the same request, which then writes the errors and partial data exactly as
it always did. Documents that use directives (@skip, @include, @defer, ...), fragment variables or introspection
beyond `__typename` are never planned: graphql-core runs them. Only queries come here, so running one again after a
failure has no effect beyond reading twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from inspect import isawaitable
from types import CoroutineType, GeneratorType
from typing import Any, TypeAlias, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeNameMetaFieldDef,
    is_abstract_type,
    is_leaf_type,
    type_from_ast,
)
from graphql.pyutils import Path, Undefined
from orjson import Fragment

from graph.compiler import CompiledEdges, CompiledObjects, CompiledRows, compile_edges, compile_object, compile_rows
from graph.strawberry_internals import (
    CAST_ATTRIBUTE,
    PermissionExtension,
    argument_names,
    base_resolver,
    build_resolve_info,
    get_argument_values,
    info_factory,
    is_default_resolver,
    resolver_parameters,
    strawberry_definition,
)

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

Complete: TypeAlias = Callable[["_Run", Any, Path | None], Any]


class NotPlannable(Exception):
    """The document uses something only graphql-core executes."""


class _Run:
    """One execution: the graphql-core executor (for resolve infos and arguments) and whether anything failed."""

    __slots__ = ("executor", "failed", "memo")

    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        self.failed = False
        self.memo: dict[int, dict[int, tuple[Any, Any]]] = {}  # by selection: object id -> (object, answer)


@dataclass(slots=True)
class _Field:
    key: str
    nodes: list[FieldNode]
    definition: GraphQLField
    parent: GraphQLObjectType
    attribute: str | None  # a field without resolver: read this attribute of the source
    typename: str | None  # `__typename`: this constant
    complete: Complete = field(init=False)
    has_arguments: bool = field(init=False)
    needs_path: bool = field(init=False, default=False)  # a resolver or an abstract type at or below it
    direct: _Direct | None = None  # the Strawberry resolver, called without Strawberry's wrappers

    def __post_init__(self) -> None:
        self.has_arguments = bool(self.definition.args or self.nodes[0].arguments)

    def resolve(self, run: _Run, source: Any, path: Path) -> Any:
        executor = run.executor
        info = build_resolve_info(executor, self.definition, self.nodes, self.parent, path)
        arguments = (
            get_argument_values(
                self.definition, self.nodes[0], executor.variable_values, None, executor.hide_suggestions
            )
            if self.has_arguments
            else {}
        )
        if self.direct is not None:
            return self.direct(source, info, arguments)
        resolve = self.definition.resolve
        assert resolve is not None  # only fields with a resolver of their own get here
        return resolve(source, info, **arguments)


class _Refused(Exception):
    """A permission said no: graphql-core runs the request again, and Strawberry answers the refusal."""


@dataclass(slots=True)
class _Direct:
    """A Strawberry resolver called as Strawberry calls it on success, without its wrappers (~0.2 ms a field on a
    slow machine): a Strawberry `Info`, each permission checked, the arguments by their Python names, the source as
    `self` or under its parameter's name. Only for fields whose extensions are permissions and whose arguments are
    scalars or enums, which Strawberry passes on as graphql-core coerced them. Anything else raising, a refusal
    included, fails the run, and graphql-core's run through Strawberry is the answer (`edge.execution`)."""

    field: Any  # StrawberryField
    resolver: Any  # its StrawberryResolver
    info_class: Callable[[Any, Any], Any]  # (raw info, field) -> Info
    permissions: tuple[Any, ...]
    names: dict[str, str]  # GraphQL argument name -> Python parameter name
    source_as_self: bool
    source_names: tuple[str, ...]  # the resolver's `parent` and `root` parameters
    info_name: str | None

    @classmethod
    def of(cls, definition: GraphQLField, schema: GraphQLSchema) -> _Direct | None:
        strawberry_field = strawberry_definition(definition)
        strawberry_schema = strawberry_definition(schema)
        resolver = base_resolver(strawberry_field)
        if resolver is None or strawberry_schema is None:
            return None
        permissions: list[Any] = []
        for extension in strawberry_field.extensions:
            if type(extension) is not PermissionExtension or extension.fail_silently:
                return None
            permissions += extension.permissions
        for argument in definition.args.values():
            named = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
            if not is_leaf_type(named):  # lists and input objects are converted by Strawberry
                return None
        names = argument_names(strawberry_schema, strawberry_field)
        if set(names) != set(definition.args):
            return None
        source_as_self, source_names, info_name = resolver_parameters(resolver)
        return cls(
            field=strawberry_field,
            resolver=resolver,
            info_class=info_factory(strawberry_schema),
            permissions=tuple(permissions),
            names=names,
            source_as_self=source_as_self,
            source_names=source_names,
            info_name=info_name,
        )

    def __call__(self, source: Any, raw_info: Any, arguments: dict[str, Any]) -> Any:
        info = self.info_class(raw_info, self.field)
        names = self.names
        kwargs = {names[name]: value for name, value in arguments.items()}
        for name in self.source_names:  # permissions see these too, as Strawberry passes them
            kwargs[name] = source
        for permission in self.permissions:
            allowed = permission.has_permission(source, info, **kwargs)
            if allowed is not True:
                if isinstance(allowed, CoroutineType):
                    allowed.close()
                raise _Refused
        if self.info_name is not None:
            kwargs[self.info_name] = info
        resolver = self.resolver
        return resolver(source, **kwargs) if self.source_as_self else resolver(**kwargs)


@dataclass(slots=True)
class _Selection:
    """The merged fields of one selection set on one object type."""

    type: GraphQLObjectType
    fields: list[_Field]
    known: dict[Any, bool] = field(default_factory=dict)  # Python classes `is_type_of` accepted or refused
    plain: list[_Plain] | None = None  # every field an attribute needing no path: `_walker` writes their walk


# A field of a plain selection (a tuple: unpacked in the loop, faster than attributes): key, attribute, whether
# non-null, the class whose values are their own answer (int: within 32 bits), a leaf's coercion (None: `complete`
# the value) and the field's completion. `__typename` reads `__class__` and completes to its constant.
_Plain: TypeAlias = tuple[str, str, bool, type | None, Callable[[Any], Any] | None, Complete]


class Plan:
    """One operation of a document, planned against a schema."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        if operation.operation is not OperationType.QUERY or operation.directives:
            raise NotPlannable
        self.schema = schema
        self._dynamic = 0  # fields with resolvers and abstract types planned so far: they need response paths
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions or definition.directives:
                    raise NotPlannable
                self.fragments[definition.name.value] = definition
        for variable in operation.variable_definitions or ():
            if variable.directives:
                raise NotPlannable
        # lists of declared rows written by PostgreSQL, by the node of the field whose resolver answers them: the
        # edges of a connection, or the rows of an object (`timeReport`)
        self.compiled: dict[int, CompiledEdges | CompiledRows | CompiledObjects] = {}
        root = schema.query_type
        assert root is not None
        self.root = self._selection(root, [operation.selection_set])

    def _selection(self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> _Selection:
        grouped = self._grouped(parent, selection_sets)
        fields = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append(_Field(key, nodes, TypeNameMetaFieldDef, parent, None, parent.name))
                continue
            if name.startswith("__"):
                raise NotPlannable  # introspection
            definition = parent.fields[name]
            resolve = definition.resolve
            attribute = None
            if resolve is None or is_default_resolver(resolve):
                strawberry_field = strawberry_definition(definition)
                if strawberry_field is None:
                    raise NotPlannable
                attribute = strawberry_field.python_name
            planned = _Field(key, nodes, definition, parent, attribute, None)
            if attribute is None:
                planned.direct = _Direct.of(definition, self.schema)
                self._compile(definition, nodes)
            dynamic = self._dynamic
            planned.complete = self._completion(definition.type, nodes, definition, parent)
            planned.needs_path = attribute is None or self._dynamic > dynamic
            if attribute is None:
                self._dynamic += 1
            fields.append(planned)
        selection = _Selection(parent, fields)
        if all((f.attribute is not None or f.typename is not None) and not f.needs_path for f in fields):
            selection.plain = [_plain(f) for f in fields]
        return selection

    def _compile(self, definition: GraphQLField, nodes: list[FieldNode]) -> None:
        answer = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        if is_abstract_type(answer):  # `node`: each declared type it may be, with its selection
            possible = self.schema.get_possible_types(answer)
            objects = {t.name: compile_object(self._grouped, t, nodes) for t in possible}
            found = {name: compiled for name, compiled in objects.items() if compiled is not None}
            if found:
                self.compiled[id(nodes[0])] = CompiledObjects(found)
            return
        if not isinstance(answer, GraphQLObjectType):
            return
        compiled: CompiledEdges | CompiledRows | None
        if "edges" in answer.fields:
            compiled = compile_edges(self._grouped, answer, nodes)
        else:
            compiled = compile_rows(self._grouped, answer, nodes)
        if compiled is not None:
            self.compiled[id(nodes[0])] = compiled

    def _grouped(self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}
        self._collect(parent, selection_sets, grouped, set())
        return grouped

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection_set in selection_sets:
            for selection in selection_set.selections:
                if selection.directives:
                    raise NotPlannable
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection, parent):
                        self._collect(parent, [selection.selection_set], grouped, visited)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments[name]
                    if self._applies(fragment, parent):
                        self._collect(parent, [fragment.selection_set], grouped, visited)
                else:
                    raise NotPlannable

    def _applies(self, fragment: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLObjectType) -> bool:
        if fragment.type_condition is None:
            return True
        condition = type_from_ast(self.schema, fragment.type_condition)
        if condition is parent:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, parent)

    def _completion(
        self,
        type_: GraphQLOutputType,
        nodes: list[FieldNode],
        definition: GraphQLField,
        parent: GraphQLObjectType,
        *,
        in_list: bool = False,
    ) -> Complete:
        if isinstance(type_, GraphQLNonNull):
            if is_leaf_type(type_.of_type):
                return _leaf(type_.of_type, non_null=True)
            inner = self._completion(type_.of_type, nodes, definition, parent, in_list=in_list)

            def non_null(run: _Run, value: Any, path: Path | None) -> Any:
                if value is None:
                    run.failed = True
                    return None
                return inner(run, value, path)

            return non_null
        if isinstance(type_, GraphQLList):
            return self._list(self._completion(type_.of_type, nodes, definition, parent, in_list=True))
        if is_leaf_type(type_):
            return _leaf(type_)
        sub_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if isinstance(type_, GraphQLObjectType):
            selection = self._selection(type_, sub_sets)
            if selection.plain is not None:
                return _plain_object(selection, shared=not in_list)
            return self._object(selection)
        self._dynamic += 1
        return self._abstract(cast(GraphQLAbstractType, type_), sub_sets, nodes, definition, parent)

    def _list(self, item: Complete) -> Complete:
        def complete_list(run: _Run, value: Any, path: Path | None) -> Any:
            if value is None:
                return None
            if type(value) is Fragment:  # answered as JSON text by its resolver (`Plan.compiled`, `Context.compiled`)
                return value
            if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
                run.failed = True
                return None
            completed = []
            pending: list[int] = []
            for index, element in enumerate(value):
                item_path = Path(path, index, None) if path is not None else None
                if _awaitable(element):
                    completed.append(_settle(run, element, item, item_path))
                    pending.append(index)
                    continue
                done = item(run, element, item_path)
                if type(done) is CoroutineType:  # completions defer as coroutines only
                    pending.append(index)
                completed.append(done)
            if pending:
                return _fill(completed, pending)
            return completed

        return complete_list

    def _object(self, selection: _Selection) -> Complete:
        def complete_object(run: _Run, value: Any, path: Path | None) -> Any:
            if value is None:
                return None
            if not _is_type_of(selection, value):
                run.failed = True
                return None
            return _execute_fields(run, selection, value, path)

        return complete_object

    def _abstract(
        self,
        abstract: GraphQLAbstractType,
        sub_sets: list[SelectionSetNode],
        nodes: list[FieldNode],
        definition: GraphQLField,
        parent: GraphQLObjectType,
    ) -> Complete:
        selections: dict[str, _Selection] = {}

        def complete_abstract(run: _Run, value: Any, path: Path | None) -> Any:
            if value is None:
                return None
            if type(value) is Fragment:  # answered as JSON text by its resolver (`Plan.compiled`, `Context.compiled`)
                return value
            resolve_type = abstract.resolve_type
            if resolve_type is None:
                run.failed = True
                return None
            field_path = path
            assert field_path is not None  # abstract types are planned with paths
            while isinstance(field_path.key, int) and field_path.prev is not None:  # items of a list: the list's path
                field_path = field_path.prev
            # the resolve info of the field that returned the value, as graphql-core passes it
            field_info = build_resolve_info(run.executor, definition, nodes, parent, field_path)
            type_name = resolve_type(value, field_info, abstract)
            if not isinstance(type_name, str):
                run.failed = True  # awaitable or missing type names: graphql-core decides
                if isawaitable(type_name):
                    cast(Any, type_name).close()
                return None
            selection = selections.get(type_name)
            if selection is None:
                runtime = self.schema.get_type(type_name)
                if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(abstract, runtime):
                    run.failed = True
                    return None
                selection = selections[type_name] = self._selection(runtime, sub_sets)
            if not _is_type_of(selection, value):
                run.failed = True
                return None
            return _execute_fields(run, selection, value, path)

        return complete_abstract

    async def execute(self, executor: Executor[Any]) -> ExecutionResult | None:
        """The answer, or None when graphql-core has to run the request (something failed)."""
        run = _Run(executor)
        data = _execute_fields(run, self.root, executor.root_value, None)
        if isawaitable(data):
            data = await data
        return None if run.failed else ExecutionResult(data=data)


_SYNC: set[type] = {str, int, bool, float, list, dict, type(None)}  # classes whose instances are never awaitable


def _awaitable(value: Any) -> bool:
    cls = type(value)
    if cls in _SYNC:
        return False
    if cls is CoroutineType or isawaitable(value):
        return True
    if not hasattr(cls, "__await__") and cls is not GeneratorType:
        _SYNC.add(cls)
    return False


def _is_type_of(selection: _Selection, value: Any) -> bool:
    is_type_of = selection.type.is_type_of
    if is_type_of is None:
        return True
    cls = type(value)
    known = selection.known.get(cls)
    if known is None:
        # Strawberry's predicate reads the value only
        known = bool(is_type_of(value, None))  # type: ignore[arg-type]
        if getattr(value, CAST_ATTRIBUTE, None) is None:  # not a strawberry.cast: the class decides
            selection.known[cls] = known
    return known


def _execute_fields(run: _Run, selection: _Selection, source: Any, path: Path | None) -> Any:
    result: dict[str, Any] = {}
    pending: list[str] | None = None
    for planned in selection.fields:
        key = planned.key
        if planned.typename is not None:
            result[key] = planned.typename
            continue
        field_path = Path(path, key, selection.type.name) if planned.needs_path else None
        try:
            if planned.attribute is not None:
                value = getattr(source, planned.attribute)
            else:
                assert field_path is not None  # resolvers are planned with paths
                value = planned.resolve(run, source, field_path)
                if _awaitable(value):
                    result[key] = _settle(run, value, planned.complete, field_path)
                    pending = [*pending, key] if pending else [key]
                    continue
            done = planned.complete(run, value, field_path)
        except Exception:
            run.failed = True
            done = None
        if type(done) is CoroutineType:  # completions defer as coroutines only
            pending = [*pending, key] if pending else [key]
        result[key] = done
    if pending:
        return _fill(result, pending)
    return result


def _plain(planned: _Field) -> _Plain:
    typename = planned.typename
    if typename is not None:
        return (planned.key, "__class__", False, None, None, lambda run, value, path: typename)
    assert planned.attribute is not None
    type_ = planned.definition.type
    non_null = isinstance(type_, GraphQLNonNull)
    leaf = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not is_leaf_type(leaf):
        return (planned.key, planned.attribute, False, None, None, planned.complete)
    native = int if leaf is GraphQLInt else _NATIVE.get(leaf)
    return (planned.key, planned.attribute, non_null, native, _serializer(leaf), planned.complete)


def _plain_object(selection: _Selection, *, shared: bool) -> Complete:
    """Complete an object whose selected fields are all attributes; `shared`: one answer per object and run.

    A shared object (a field's value, not a list's item: the debtor or employee that many report rows name) is
    completed once per run, since its answer depends on nothing but its attributes.
    """
    plain = selection.plain
    assert plain is not None
    memo_key = id(selection)
    walk = _walker(selection, plain)

    def complete_plain_object(run: _Run, value: Any, path: Path | None) -> Any:
        if value is None:
            return None
        if not shared:
            return walk(run, value)
        memo = run.memo.get(memo_key)
        if memo is None:
            memo = run.memo[memo_key] = {}
        known = memo.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        done = walk(run, value)
        if type(done) is dict:
            memo[id(value)] = (value, done)  # the value is kept: its id is not reused within the run
        return done

    return complete_plain_object


def _walker(selection: _Selection, plain: list[_Plain]) -> Callable[[_Run, Any], Any]:
    """`_execute_fields` for a plain selection, written out as one function of straight-line code.

    No paths, no resolvers, leaves coerced inline: per field an attribute read, a type test and a local, and the
    answer one dict display at the end. A loop over the fields' tuples cost ~2x as much (a 6,000-row report spent
    ~30 ms there). The semantics are `_execute_fields`' for such fields: any exception, refused leaf or null in a
    non-null field marks the run as failed, and completions deferred as coroutines are still awaited.
    """
    names: dict[str, Any] = {
        "is_type_of": _is_type_of,
        "selection": selection,
        "Undefined": Undefined,
        "CoroutineType": CoroutineType,
        "fill": _fill,
        "INT_MIN": _INT_MIN,
        "INT_MAX": _INT_MAX,
    }
    lines = [
        "def walk(run, source):",
        "    if not is_type_of(selection, source):",
        "        run.failed = True",
        "        return None",
        "    pending = None",
        "    try:",
    ]
    for i, (key, attribute, non_null, native, serialize, complete) in enumerate(plain):
        names[f"K{i}"], names[f"N{i}"], names[f"S{i}"], names[f"C{i}"] = key, native, serialize, complete
        if attribute == "__class__":  # `__typename`: its completion gives the type's name whatever the value
            lines.append(f"        f{i} = C{i}(run, None, None)")
            continue
        read = f"source.{attribute}" if attribute.isidentifier() else f"getattr(source, {attribute!r})"
        lines.append(f"        v = {read}")
        if native is int:
            lines += [
                "        if type(v) is int and INT_MIN <= v <= INT_MAX:",
                f"            f{i} = v",
                "        elif v is None:",
            ]
        elif native is not None:
            lines += [f"        if type(v) is N{i}:", f"            f{i} = v", "        elif v is None:"]
        else:
            lines.append("        if v is None:")
        lines.append(f"            f{i} = None")
        if non_null:
            lines.append("            run.failed = True")
        if serialize is not None:
            lines += [
                "        else:",
                f"            f{i} = S{i}(v)",
                f"            if f{i} is None or f{i} is Undefined:",
                "                run.failed = True",
            ]
        else:
            lines += [
                "        else:",
                f"            f{i} = C{i}(run, v, None)",
                f"            if type(f{i}) is CoroutineType:",  # completions defer as coroutines only
                f"                pending = [*pending, (K{i}, f{i})] if pending else [(K{i}, f{i})]",
            ]
    answer = ", ".join(f"K{i}: f{i}" for i in range(len(plain)))
    lines += [
        "    except Exception:",
        "        run.failed = True",
        "        if pending:",  # the completions already deferred are still awaited
        "            return fill(dict(pending), [key for key, _ in pending])",
        "        return None",
        f"    result = {{{answer}}}",
        "    if pending:",
        "        return fill(result, [key for key, _ in pending])",
        "    return result",
    ]
    exec(compile("\n".join(lines), f"<plain walk of {selection.type.name}>", "exec"), names)
    walk: Callable[[_Run, Any], Any] = names["walk"]
    return walk


async def _settle(run: _Run, value: Awaitable[Any], complete: Complete, path: Path | None) -> Any:
    try:
        done = complete(run, await value, path)
        if type(done) is CoroutineType:  # completions defer as coroutines only
            done = await done
        return done
    except Exception:
        run.failed = True
        return None


async def _fill(values: Any, pending: list[Any]) -> Any:
    """Await the pending entries (list indexes or dict keys) of `values` in place, concurrently."""
    if len(pending) == 1:
        values[pending[0]] = await values[pending[0]]
        return values
    for key, done in zip(pending, await asyncio.gather(*(values[k] for k in pending)), strict=True):
        values[key] = done
    return values


_NATIVE: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}


def _serializer(type_: GraphQLLeafType) -> Callable[[Any], Any]:
    """The leaf's serializer; an enum's remembers the names it gave (Strawberry's costs ~3.6 µs a value)."""
    if not isinstance(type_, GraphQLEnumType):
        return type_.serialize
    serialize = type_.serialize
    names: dict[tuple[type, Any], Any] = {}

    def serialize_enum(value: Any) -> Any:
        key = (value.__class__, value)  # a StrEnum member equals its plain string: keep the two apart
        try:
            return names[key]
        except KeyError:
            name = names[key] = serialize(value)
            return name
        except TypeError:  # unhashable: no memory
            return serialize(value)

    return serialize_enum


def _leaf(type_: GraphQLLeafType, *, non_null: bool = False) -> Complete:
    serialize = _serializer(type_)
    native = _NATIVE.get(type_)

    def complete_leaf(run: _Run, value: Any, path: Path | None) -> Any:
        if value is None:
            if non_null:
                run.failed = True
            return None
        if native is not None and type(value) is native:
            return value
        if type_ is GraphQLInt and type(value) is int and _INT_MIN <= value <= _INT_MAX:
            return value
        try:
            serialized = serialize(value)
        except Exception:
            serialized = None
        if serialized is None or serialized is Undefined:
            run.failed = True
            return None
        return serialized

    return complete_leaf
