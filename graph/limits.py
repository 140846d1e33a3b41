"""Operation limits of SPEC 5b as parse options and validation rules: nothing runs when one is exceeded."""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    ValidationContext,
    specified_rules,
)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_COMMENTS = 5000
# Work units of the field-merging check. A realistic operation spends well under 100; graphql-core's default
# (500,000) lets one 4 KB document of repeated `role { id }` burn seconds of CPU before anything is refused.
MAX_MERGE_COST = 20_000
LIMIT_CODE = {"code": "LIMIT_EXCEEDED"}


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
        self.rule_context.remaining_complexity_budget = MAX_MERGE_COST


VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (
    *(BoundedFieldMerging if rule is OverlappingFieldsCanBeMergedRule else rule for rule in specified_rules),
    OperationLimits,
)
