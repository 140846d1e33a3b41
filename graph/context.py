from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

import strawberry

from db.session import RequestDb
from graph.compiler import CompiledEdges, CompiledRows
from graph.loaders import Loaders
from graph.strawberry_internals import field_nodes
from services.auth import Viewer
from services.passwords import Passwords
from services.visibility import Visibility
from settings import Config


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
    # what the plan answering compiled (`edge.execution.Plan.compiled`): a list may then be answered as JSON text,
    # an orjson.Fragment; None while graphql-core, which runs a request the plan could not answer, takes Python
    # values only
    compiled: Mapping[int, CompiledEdges | CompiledRows] | None = None

    def compiled_edges(self, info: Info) -> CompiledEdges | None:
        """The edges the plan compiled below the connection field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledEdges else None

    def compiled_rows(self, info: Info) -> CompiledRows | None:
        """The list of rows the plan compiled in the object the field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledRows else None

    def _compiled(self, info: Info) -> CompiledEdges | CompiledRows | None:
        if self.compiled is None:
            return None
        return self.compiled.get(id(field_nodes(info)[0]))

    @property
    def me(self) -> Viewer:
        """The viewer, for fields whose permission class already required one."""
        assert self.viewer is not None
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
