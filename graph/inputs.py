"""Checks of what a client sends that hold for every field alike, made once at the edge before anything runs.

No text may hold U+0000 (SPEC 12): PostgreSQL cannot store it, so it would fail deep in a statement. And a message
quotes at most 100 characters of the value it refuses, graphql-core's own messages included.
"""

from __future__ import annotations

from typing import Any

from graphql import ASTValidationRule, GraphQLError, StringValueNode

NUL = "\x00"
NUL_MESSAGE = "Text may not contain the character U+0000"


class NoNulInLiterals(ASTValidationRule):
    """A string literal of the document holding U+0000 is refused with the document, once per prepared document."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if NUL in node.value:
            self.report_error(GraphQLError(NUL_MESSAGE, node, extensions={"code": "VALIDATION"}))
            return self.BREAK
        return None


def holds_nul(variables: dict[str, Any] | None) -> bool:
    """Whether a string of the variables, a key included, holds U+0000 (the document's literals: NoNulInLiterals)."""
    if not variables:
        return False
    pending: list[Any] = [variables]
    while pending:  # a loop, not recursion: JSON may nest deeper than Python's stack
        value = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.values())
            pending.extend(value.keys())
        elif isinstance(value, list):
            pending.extend(value)
    return False
