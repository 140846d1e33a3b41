"""Operation limits of SPEC 5b as validation rules: nothing runs when one is exceeded."""

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
    SelectionSetNode,
    ValidationContext,
)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
LIMIT_CODE = {"code": "LIMIT_EXCEEDED"}


class DepthLimit(ASTValidationRule):
    """Depth of the deepest field, through fragments; introspection fields are not counted."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        fragments = {
            f.name.value: f for f in self.context.document.definitions if isinstance(f, FragmentDefinitionNode)
        }
        depth = _depth(node.selection_set, fragments, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"Operation is {depth} levels deep; the limit is {MAX_DEPTH}", node, extensions=LIMIT_CODE)
            )


def _depth(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are reported by NoFragmentCycles
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


class AliasLimit(ASTValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.aliases = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is not None:
            self.aliases += 1
            if self.aliases == MAX_ALIASES + 1:
                self.report_error(
                    GraphQLError(f"Operation uses more than {MAX_ALIASES} aliases", node, extensions=LIMIT_CODE)
                )
