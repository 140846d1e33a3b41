"""Operation limits of SPEC 5b as parse options and validation rules, and the node count of SPEC 12, checked before
anything runs: nothing runs when one is exceeded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    get_nullable_type,
    specified_rules,
)

from graph.pagination import DEFAULT_PAGE
from graph.strawberry_internals import set_merge_budget

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_COMMENTS = 5000
# Work units of the field-merging check. A realistic operation spends well under 100; graphql-core's default
# (500,000) lets one 4 KB document of repeated `role { id }` burn seconds of CPU before anything is refused.
MAX_MERGE_COST = 20_000
LIMIT_CODE = {"code": "LIMIT_EXCEEDED"}
MAX_NODES = 10_000
# A plain list (roles, a payload's entries, report rows) has no `first`: connections below it count as if it held a
# default page. Its own items are not counted, as GitHub counts only connections.
PLAIN_LIST_GUESS = DEFAULT_PAGE


class _Measure:
    """Depth and alias count of selection sets, with each fragment measured once.

    Memoising fragments keeps a "fragment bomb" (each fragment spreading the next twice) linear; a spread that
    closes a cycle adds nothing here, since NoFragmentCyclesRule reports it.
    """

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, tuple[int, int]] = {}
        self.open: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        if selection_set is None:
            return 0, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner_depth, inner_aliases = self.selection_set(selection.selection_set)
                aliases += inner_aliases + (selection.alias is not None)
                if not selection.name.value.startswith("__"):  # introspection is not counted (SPEC 5b)
                    depth = max(depth, 1 + inner_depth)
            elif isinstance(selection, InlineFragmentNode):
                inner_depth, inner_aliases = self.selection_set(selection.selection_set)
                depth, aliases = max(depth, inner_depth), aliases + inner_aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner_depth, inner_aliases = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner_depth), aliases + inner_aliases
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            return 0, 0
        self.open.add(name)
        self.measured[name] = self.selection_set(fragment.selection_set)
        self.open.discard(name)
        return self.measured[name]


class OperationLimits(ASTValidationRule):
    """Depth of the deepest field and the aliases an operation runs, through its fragments (SPEC 5b)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        fragments = {d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.measure = _Measure(fragments)

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        depth, aliases = self.measure.selection_set(node.selection_set)
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"Operation is {depth} levels deep; the limit is {MAX_DEPTH}", node, extensions=LIMIT_CODE)
            )
        if aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(
                    f"Operation uses {aliases} aliases; the limit is {MAX_ALIASES}", node, extensions=LIMIT_CODE
                )
            )


class BoundedFieldMerging(OverlappingFieldsCanBeMergedRule):
    """The standard field-merging rule on a small work budget; running out aborts validation."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        set_merge_budget(self, MAX_MERGE_COST)


VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (
    *(BoundedFieldMerging if rule is OverlappingFieldsCanBeMergedRule else rule for rule in specified_rules),
    OperationLimits,
)


# a page size: a literal, or the candidates `first` then `last`, each a literal or a variable with its default
_Size: TypeAlias = int | tuple[int | tuple[str, Any], ...]


class _Cost:
    """The nodes a selection set may return: a sum of (times it runs, nodes of its own, the selection below)."""

    __slots__ = ("terms", "value")

    def __init__(self, terms: tuple[tuple[_Size, int, _Cost], ...]) -> None:
        self.terms = terms
        self.value: int | None = 0  # known from the document alone: no page size is a variable
        for size, own, inner in terms:
            if self.value is None or not isinstance(size, int) or inner.value is None:
                self.value = None
            else:
                self.value += size * (own + inner.value)

    def nodes(self, variables: Mapping[str, Any], memo: dict[int, int]) -> int:
        if self.value is not None:
            return self.value
        found = memo.get(id(self))
        if found is None:  # a fragment spread in many places is one shared _Cost: each is counted once per request
            found = memo[id(self)] = sum(
                _size(size, variables) * (own + inner.nodes(variables, memo)) for size, own, inner in self.terms
            )
        return found


def _size(size: _Size, variables: Mapping[str, Any]) -> int:
    if isinstance(size, int):
        return size
    for candidate in size:
        value = variables.get(candidate[0], candidate[1]) if isinstance(candidate, tuple) else candidate
        # as graphql-core coerces an Int: a whole float counts; anything else is refused later and counts the default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
    return DEFAULT_PAGE


class _Counter:
    """Builds the _Cost of one operation, each fragment once (a fragment bomb stays linear)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.defaults = {v.variable.name.value: _literal(v.default_value) for v in operation.variable_definitions or ()}
        self.built: dict[str, _Cost] = {}

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> _Cost:
        terms: list[tuple[_Size, int, _Cost]] = []
        for selection in selection_set.selections:
            term: tuple[_Size, int, _Cost] | None = None
            if isinstance(selection, FieldNode):
                term = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                term = (1, 0, self.selection_set(selection.selection_set, on))
            elif isinstance(selection, FragmentSpreadNode):
                term = (1, 0, self.fragment(selection.name.value))
            if term is not None and (term[1] or term[2].value != 0):
                terms.append(term)
        return _Cost(tuple(terms))

    def fragment(self, name: str) -> _Cost:
        if name not in self.built:
            fragment = self.fragments[name]
            on = self.schema.get_type(fragment.type_condition.name.value)
            self.built[name] = self.selection_set(fragment.selection_set, on)
        return self.built[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> tuple[_Size, int, _Cost] | None:
        if node.selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        definition = parent.fields.get(node.name.value)
        if definition is None or node.name.value.startswith("__"):  # introspection pages nothing
            return None
        below = get_named_type(definition.type)
        inner = self.selection_set(node.selection_set, below)
        if _is_page(below) and any(a in definition.args for a in ("first", "last")):
            return self.size(node), 1, inner
        if isinstance(get_nullable_type(definition.type), GraphQLList) and not _is_page(parent):
            return PLAIN_LIST_GUESS, 0, inner
        return 1, 0, inner  # a page's edges hold the items its connection counted

    def size(self, node: FieldNode) -> _Size:
        values = {a.name.value: a.value for a in node.arguments or ()}
        candidates: list[int | tuple[str, Any]] = []
        for name in ("first", "last"):  # as `graph.pagination.page_size` picks them
            value = values.get(name)
            if isinstance(value, IntValueNode):
                candidates.append(int(value.value))
            elif isinstance(value, VariableNode):
                candidates.append((value.name.value, self.defaults.get(value.name.value)))
        if candidates and isinstance(candidates[0], int):
            return candidates[0]
        return tuple(candidates) if candidates else DEFAULT_PAGE


def _literal(node: Any) -> int | None:
    return int(node.value) if isinstance(node, IntValueNode) else None


def _is_page(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and "edges" in type_.fields and "pageInfo" in type_.fields


class NodeCost:
    """The most nodes an operation may return, as GitHub counts them (SPEC 12): each connection multiplies the nodes
    below it by its `first`/`last` (50 when left out), summed over every field, alias and fragment.

    Built once per prepared document and operation; a page size given as a variable is read per request."""

    __slots__ = ("_cost",)

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        root = schema.get_root_type(operation.operation)
        self._cost = _Counter(schema, document, operation).selection_set(operation.selection_set, root)

    def nodes(self, variables: Mapping[str, Any] | None) -> int:
        cost = self._cost
        return cost.value if cost.value is not None else cost.nodes(variables or {}, {})


def too_many_nodes(nodes: int) -> str:
    return f"Operation may return {nodes} nodes; the limit is {MAX_NODES}"
