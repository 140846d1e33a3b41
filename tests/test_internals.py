"""The libraries' undocumented members casetime uses: all present on the installed versions, each missing one named
at start, and reached only through db.sqlalchemy_internals and graph.strawberry_internals."""

from __future__ import annotations

import ast
import re

import pytest
from graphql import Executor
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.pool import Pool
from strawberry.types.fields.resolver import StrawberryResolver

from db import sqlalchemy_internals
from db.engine import create_engine
from edge.app import create_app
from graph import strawberry_internals
from settings import PROJECT_ROOT

INTERNALS = {PROJECT_ROOT / "db" / "sqlalchemy_internals.py", PROJECT_ROOT / "graph" / "strawberry_internals.py"}
SCANNED = [
    path
    for folder in ("edge", "api", "graph", "db", "services")
    for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
    if path not in INTERNALS
] + [PROJECT_ROOT / "cli.py"]
# what only the two modules may name: private members, Strawberry's markers, undocumented modules and names
ATTRIBUTES = frozenset(
    {
        *("_cached_result_processor", "_cached_bind_processor", "_execute_mutex", "_transaction", "_start_transaction"),
        *("_handle_exception", "_invalidate", "_dbapi_connection", "_has_events", "dispatch", "_traverse_internals"),
        *("_schema", "_raw_info", "_is_default", "rule_context", "remaining_complexity_budget", "base_resolver"),
        *("self_parameter", "info_parameter", "parent_parameter", "root_parameter", "name_converter", "info_class"),
        "build_resolve_info",
    }
)
STRINGS = ("strawberry-definition", "__as_strawberry_type__", "_is_default", "_raw_info", "base_resolver")
MODULES = re.compile(
    r"(sqlalchemy\.util|sqlalchemy\.sql\.visitors|strawberry\.utils|strawberry\.types\.|strawberry\.resolvers"
    r"|strawberry\.schema\.(?!config$)|graphql\.validation\.)"
)
NAMES = frozenset({"PermissionExtension", "get_argument_values", "greenlet_spawn", "InternalTraversal"})
INTERNAL_MODULES = ("db.sqlalchemy_internals", "graph.strawberry_internals")


def _reaches(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES and not _own(node):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [f"line {node.lineno}: {text!r}" for text in STRINGS if text in node.value]
        elif isinstance(node, ast.ImportFrom) and node.module not in INTERNAL_MODULES:
            module = node.module or ""
            if MODULES.match(module) or NAMES & {alias.name for alias in node.names}:
                found.append(f"line {node.lineno}: from {module} import")
    return found


def _own(node: ast.Attribute) -> bool:
    """`self.x`: a class's own attribute of that name (edge.execution's `_Direct.info_class`)."""
    return isinstance(node.value, ast.Name) and node.value.id == "self"


def test_the_installed_libraries_have_every_member_used() -> None:
    sqlalchemy_internals.check()
    strawberry_internals.check()


def test_a_missing_sqlalchemy_member_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(AsyncAdapt_asyncpg_connection, "_start_transaction")
    with pytest.raises(RuntimeError, match=r"AsyncAdapt_asyncpg_connection\._start_transaction .* SQLAlchemy 2\."):
        sqlalchemy_internals.check()


def test_a_changed_sqlalchemy_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Pool, "_invalidate", lambda self, record, error=None: None)
    expected = r"Pool\._invalidate is not a method of \(self, connection, exception, \.\.\.\)"
    with pytest.raises(RuntimeError, match=expected):
        sqlalchemy_internals.check()


def test_a_missing_strawberry_member_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(StrawberryResolver, "info_parameter")
    with pytest.raises(RuntimeError, match=r"StrawberryResolver\.info_parameter .* strawberry-graphql 0\."):
        strawberry_internals.check()


def test_a_changed_graphql_core_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Executor, "build_resolve_info", lambda self, field, nodes, parent, path: None)
    with pytest.raises(RuntimeError, match=r"Executor\.build_resolve_info .*graphql-core 3\."):
        strawberry_internals.check()


def test_the_checks_run_when_the_engine_and_the_app_are_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Pool, "_invalidate")
    with pytest.raises(RuntimeError, match="_invalidate"):
        create_engine("postgresql://casetime@localhost/casetime")
    monkeypatch.delattr(StrawberryResolver, "self_parameter")
    with pytest.raises(RuntimeError, match="self_parameter"):
        create_app()


def test_no_other_module_reaches_the_internals_itself() -> None:
    found = [
        f"{path.relative_to(PROJECT_ROOT)} {where}"
        for path in SCANNED
        for where in _reaches(ast.parse(path.read_text()))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "connection.engine.pool._invalidate(fairy, error)",
        'key = "strawberry-definition"',
        "from strawberry.utils.await_maybe import await_maybe",
        "from strawberry.permission import BasePermission, PermissionExtension",
        "nodes = info._raw_info.field_nodes",
    ],
)
def test_the_scan_sees_each_way_in(source: str) -> None:
    assert _reaches(ast.parse(source))
