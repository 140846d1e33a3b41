"""Only a root field opens the request's database.

The rule: a module under api/ other than a root-field module (`api/<domain>/schema.py`) never opens database access.
Its fields read through `info.context.loaders` (graph/loaders.py: DataLoaders, and methods reading one page of a
list) or through what the plan compiled (graph/compiler.py), which are handed `ctx.db` and open it themselves. The
scan flags, in such a module:
- a call of `.read(`, `.reader(` or `.write(` on a database: a name or attribute called `db` or ending in `_db`
  (`ctx.db`, `info.context.read_db`, `db = ctx.db` then `db.read()`);
- an `async with` whose context names a database, however it is reached (`async with request_db(...)`);
- an import from `sqlalchemy.ext.asyncio` or the `db` package: such a module has no session or reader to name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import PROJECT_ROOT

ROOT_FIELDS = "schema.py"
OPENS = frozenset({"read", "reader", "write"})
IMPORTS = ("sqlalchemy.ext.asyncio", "db")
SCANNED = sorted(path for path in (PROJECT_ROOT / "api").rglob("*.py") if path.name != ROOT_FIELDS)


def _database(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name is not None and (name == "db" or name.endswith("_db"))


def opened(tree: ast.AST) -> list[str]:
    """Where `tree` opens database access, as `line N: ...`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in OPENS and _database(node.func.value):
                found.append(f"line {node.lineno}: .{node.func.attr}() on a database")
        elif isinstance(node, ast.AsyncWith):
            if any(_database(inner) for item in node.items for inner in ast.walk(item.context_expr)):
                found.append(f"line {node.lineno}: async with a database")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [
                f"line {node.lineno}: import {module}"
                for module in modules
                if any(module == m or module.startswith(f"{m}.") for m in IMPORTS)
            ]
    return found


def test_only_root_fields_open_the_database() -> None:
    assert PROJECT_ROOT / "api" / "case" / "types.py" in SCANNED  # the scan reads the modules, not an empty glob
    found = [f"{path.relative_to(PROJECT_ROOT)} {where}" for path in SCANNED for where in opened(_tree(path))]
    assert found == []


def test_root_fields_are_left_out_of_the_scan_and_do_open_it() -> None:
    # the rule leaves them out, not the scan's blindness: they open the database as the scan sees it
    root_fields = sorted((PROJECT_ROOT / "api").rglob(ROOT_FIELDS))
    assert not set(root_fields) & set(SCANNED)
    assert any(opened(_tree(path)) for path in root_fields)


@pytest.mark.parametrize(
    "source",
    [
        # what `Case.capUsage` did before it read through a loader
        "async def f(self, info):\n"
        "    async with info.context.db.read() as session:\n"
        "        return await cap_usage.of_case(session, self.db_id, self, date)",
        "async def f(db):\n    async with db.reader() as reader:\n        return await cases.page(reader, first=1)",
        "async def f(ctx):\n    async with ctx.read_db.read() as session:\n        pass",
        "async def f(ctx):\n    session = ctx.db.write()",
        "async def f(maker):\n    async with request_db(maker) as db:\n        pass",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "from db.session import RequestDb",
        "import db.driver",
    ],
)
def test_the_scan_sees_each_way_in(source: str) -> None:
    assert opened(ast.parse(source))


@pytest.mark.parametrize(
    "source",
    [
        "async def f(ctx):\n    return await ctx.loaders.case_by_id.load(1)",
        "async def f(ctx, info):\n    return await ctx.compiled_edges(info).connection(ctx.db, source, keyset)",
        "async def f(ctx):\n    async with lock:\n        return await ctx.loaders.cases_page(first=1)",
        "from sqlalchemy import Integer, bindparam",
        "from graph.loaders import Loaders",
        "def f(book):\n    return book.read()",
    ],
)
def test_the_scan_lets_loaders_and_compiled_answers_be(source: str) -> None:
    assert opened(ast.parse(source)) == []


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))
