from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import strawberry

from db.session import RequestDb
from graph.loaders import Loaders
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
    # the planned executor is answering (graph.execution): a list may be answered as JSON text, an orjson.Fragment;
    # graphql-core, which runs a request the plan could not answer, takes Python values only
    json_lists: bool = False

    @property
    def me(self) -> Viewer:
        """The viewer, for fields whose permission class already required one."""
        assert self.viewer is not None
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
