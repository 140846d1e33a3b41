"""What browsers get (SPEC 12): CORS for pages on the exact origins of CORS_ORIGINS, and GraphiQL outside production,
served from the service's own files so that it works with no internet access."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from settings import Config

GRAPHIQL = Path(__file__).parent / "static" / "graphiql"
GRAPHIQL_ASSETS = "/graphiql"
# Chromium keeps a preflight at most two hours; an hour spares most preflights and lets a changed list apply soon
CORS_MAX_AGE_S = 3600
# the browser itself refuses anything from another host; GraphiQL's fonts are data: URLs in its stylesheet
GRAPHIQL_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


def cors(config: Config) -> list[Middleware]:
    """CORS for the configured origins exactly; none configured: no CORS headers at all, same origin only."""
    if not config.cors_origins:
        return []
    cors_middleware = Middleware(
        CORSMiddleware,
        allow_origins=list(config.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID"],
        # bearer tokens in a header, no cookies: nothing a browser would send by itself to another origin
        allow_credentials=False,
        max_age=CORS_MAX_AGE_S,
    )
    return [cors_middleware]


def graphiql_routes(config: Config) -> list[BaseRoute]:
    """GraphiQL's scripts and styles under /graphiql; in production there is no GraphiQL, so none."""
    if config.production:
        return []
    return [Mount(GRAPHIQL_ASSETS, app=StaticFiles(directory=GRAPHIQL / "assets"), name="graphiql")]


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_page(), headers={"Content-Security-Policy": GRAPHIQL_POLICY})


@cache
def _page() -> str:
    return (GRAPHIQL / "index.html").read_text(encoding="utf-8")
