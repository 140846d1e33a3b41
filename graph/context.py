from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import strawberry

from db.session import RequestDb
from graph.compiler import CompiledEdges, CompiledObject, CompiledObjects, CompiledRows, Source
from graph.loaders import Loaders
from graph.pagination import Connection
from graph.strawberry_internals import field_nodes, raw_variables
from services.auth import Viewer
from services.live import Hub
from services.paging import Keyset, Window
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
    # the worker's fan-out of live events, on a subscription's connection only
    live: Hub | None = None
    # what the plan answering compiled (`edge.execution.Plan.compiled`): a list may then be answered as JSON text,
    # an orjson.Fragment; None while graphql-core, which runs a request the plan could not answer, takes Python
    # values only
    compiled: Mapping[int, CompiledEdges | CompiledRows | CompiledObjects] | None = None

    def compiled_edges(self, info: Info) -> CompiledEdges | None:
        """The edges the plan compiled below the connection field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledEdges and found.answers(raw_variables(info)) else None

    def compiled_rows(self, info: Info) -> CompiledRows | None:
        """The list of rows the plan compiled in the object the field `info` resolves (`graph.compiler`)."""
        found = self._compiled(info)
        return found if type(found) is CompiledRows else None

    def compiled_object(self, info: Info, type_name: str) -> CompiledObject | None:
        """The selection of `type_name` the plan compiled below the field `info` resolves (`node`)."""
        found = self._compiled(info)
        if type(found) is not CompiledObjects:
            return None
        compiled = found.by_type.get(type_name)
        return compiled if compiled is not None and compiled.answers(raw_variables(info)) else None

    async def connection(
        self,
        info: Info,
        compiled: CompiledEdges,
        source: Source,
        keyset: Keyset,
        window: Window,
        *,
        params: Mapping[str, Any] | None = None,
        db: RequestDb | None = None,
    ) -> Connection[Any]:
        """The compiled connection `info` resolves: the page `window` of `source` in `keyset`'s order for this
        request's viewer, with its `totalCount` and the nested connections' arguments; on `db` (the request's by
        default)."""
        return await compiled.connection(
            db or self.db,
            source,
            keyset,
            window,
            viewer=self.viewer,
            visibility=self.visibility,
            params=params,
            variables=raw_variables(info),
        )

    @staticmethod
    def variables(info: Info) -> Any:
        """The request's variables as a compiled statement reads its nested connections' arguments from them."""
        return raw_variables(info)

    def _compiled(self, info: Info) -> CompiledEdges | CompiledRows | CompiledObjects | None:
        if self.compiled is None:
            return None
        return self.compiled.get(id(field_nodes(info)[0]))

    @property
    def me(self) -> Viewer:
        """The viewer, for fields whose permission class already required one."""
        assert self.viewer is not None
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
