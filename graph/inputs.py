"""Checks of what a client sends that hold for every field alike, made once at the edge before anything runs.

No text may hold U+0000 (SPEC 12): PostgreSQL cannot store it, so it would fail deep in a statement. And a message
quotes at most 100 characters of the value it refuses, graphql-core's own messages included.
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, StringValueNode, Visitor, visit

from graph.limits import PerDocument

NUL = "\x00"
NUL_MESSAGE = "Text may not contain the character U+0000"


class _FindNul(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if NUL in node.value:
            self.found = True
            return self.BREAK
        return None


def _literals_hold_nul(document: DocumentNode) -> bool:
    finder = _FindNul()
    visit(document, finder)
    return finder.found


_LITERALS: PerDocument[bool] = PerDocument()


def holds_nul(document: DocumentNode, variables: dict[str, Any] | None) -> bool:
    """Whether a string of the document (once per document) or of the variables (per request) holds U+0000."""
    if _LITERALS.get(document, lambda: _literals_hold_nul(document)):
        return True
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
