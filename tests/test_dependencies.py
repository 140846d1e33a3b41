"""What the service imports is what a production install gets: the image installs pyproject.toml's main
dependencies and what they require, not the dev extra. A module imported at the top of any file the service runs
must come from there (the embedded server's package is imported inside the function that starts it)."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from settings import PROJECT_ROOT

RUN_TIME = ("settings.py", "cli.py", "edge", "api", "graph", "services", "models", "db", "migrations")
OURS = frozenset({"settings", "cli", "edge", "api", "graph", "services", "models", "db", "migrations", "alembic_env"})


def _files() -> list[Path]:
    found: list[Path] = []
    for entry in RUN_TIME:
        path = PROJECT_ROOT / entry
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside a function: those load only when called)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _installed_with(requirements: list[str]) -> set[str]:
    """The distributions these requirements install, transitively, their extras' included."""
    seen: set[str] = set()
    waiting = [Requirement(text) for text in requirements]
    while waiting:
        requirement = waiting.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.update({key, name})
        for text in importlib.metadata.requires(name) or ():
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                waiting.append(needed)
    return {name for name in seen if "[" not in name}


def test_every_module_the_service_imports_comes_with_its_main_dependencies() -> None:
    main = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed = _installed_with(main)
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for path in _files():
        for module in _top_level_imports(path) - OURS - set(sys.stdlib_module_names) - {"__future__"}:
            distributions = {canonicalize_name(d) for d in providers.get(module, [])}
            if not distributions & installed:
                missing[module] = str(path.relative_to(PROJECT_ROOT))
    assert missing == {}


def test_the_check_sees_a_dev_only_package() -> None:
    # the negative control: hypothesis is a dev dependency only
    main = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "hypothesis" not in _installed_with(main)
    assert "httpx" in _installed_with(main)
