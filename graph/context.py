from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import strawberry

from db.session import RequestDb
from graph.compiler import CompiledEdges, CompiledRows
from graph.loaders import Loaders
from graph.strawberry_internals import field_nodes
from services.auth import Viewer
from services.passwords import Passwords
from services.visibility import Visibility
from settings import Config

if TYPE_CHECKING:
    from graph.execution import Plan


@dataclass
class Context:
    db: RequestDb
    read_db: RequestDb  # reports and read-only lists: the replica of DATABASE_READ_URL, else `db`
    viewer: Viewer | None
    visibility: Visibility
    loaders: Loaders
    config: Config
    passwords: Passwords
    token: str | None
    # the peer's address as uvicorn reports it (behind a proxy listed in FORWARDED_ALLOW_IPS: the forwarded client)
    client_address: str | None = None
    # the plan answering (graph.execution): a list may be answered as JSON text, an orjson.Fragment; None while
    # graphql-core, which runs a request the plan could not answer, takes Python values only
    plan: Plan | None = None

    def compiled_edges(self, info: Info) -> CompiledEdges | None:
        """The edges the plan compiled below the connection field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledEdges else None

    def compiled_rows(self, info: Info) -> CompiledRows | None:
        """The list of rows the plan compiled in the object the field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledRows else None

    def _compiled(self, info: Info) -> CompiledEdges | CompiledRows | None:
        if self.plan is None:
            return None
        return self.plan.compiled.get(id(field_nodes(info)[0]))

    @property
    def me(self) -> Viewer:
        """The viewer, for fields whose permission class already required one."""
        assert self.viewer is not None
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
