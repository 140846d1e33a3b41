"""GraphiQL (SPEC 12): outside production, GET /graphql from a browser answers GraphiQL, served wholly from the
service's own files so that it works with no internet access; in production neither the page nor its files."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from edge.app import create_app
from edge.browser import GRAPHIQL
from settings import PROJECT_ROOT
from tests.conftest import TEST_CONFIG
from tests.deploy_support import cli_env, free_port, wait_ready

HTML = {"Accept": "text/html"}
ASSETS = GRAPHIQL / "assets"
# what would make a browser fetch from another host: a script or style source, a module import, a stylesheet import
# or url(), a source map (followed when developer tools open), or a CDN named anywhere as a host
OUTSIDE_LOADS = re.compile(
    r"""(?:\bsrc\s*=\s*["'`]?|import\(\s*["'`]|@import\s+["'`]?|url\(\s*["']?|\bhref\s*=\s*["'`]?)(?:https?:)?//"""
    r"|sourceMappingURL="
    r"|unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com|esm\.sh|googleapis\.com|gstatic\.com",
    re.IGNORECASE,
)
MEDIA_TYPES = {".js": "javascript", ".css": "text/css"}


class _References(HTMLParser):
    """Every script src and link href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        value = dict(attrs).get(wanted) if wanted else None
        if value:
            self.found.append(value)


def _references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.found


def _loaded_files(page: str) -> list[str]:
    """The references that load a file (data: URLs are part of the page)."""
    return [ref for ref in _references(page) if not ref.startswith("data:")]


async def _page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


class TestPage:
    async def test_a_browser_gets_graphiql_on_the_endpoint(self, client: httpx.AsyncClient) -> None:
        # when
        page = await _page(client)
        # then: GraphiQL, calling this endpoint, with the headers editor open for a bearer token
        assert 'id="graphiql"' in page
        assert 'url: "/graphql"' in page
        assert "isHeadersEditorEnabled: true" in page
        assert '"Authorization": "Bearer "' in page

    async def test_the_page_names_no_other_host(self, client: httpx.AsyncClient) -> None:
        # when
        page = await _page(client)
        # then
        assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE) == []
        assert all(ref.startswith(("/", "data:")) and not ref.startswith("//") for ref in _references(page))

    async def test_the_browser_is_told_to_load_from_this_service_only(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/graphql", headers=HTML)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "connect-src 'self'" in policy

    async def test_every_script_and_stylesheet_is_served_by_the_service(self, client: httpx.AsyncClient) -> None:
        # given
        loaded = _loaded_files(await _page(client))
        assert len(loaded) >= 4  # React, ReactDOM, GraphiQL's script and its styles at least
        for path in loaded:
            # when
            response = await client.get(path)
            # then
            assert response.status_code == 200, path
            assert MEDIA_TYPES[Path(path).suffix] in response.headers["content-type"], path
            assert response.content == (ASSETS / Path(path).name).read_bytes()


class TestVendoredFiles:
    async def test_no_file_loads_anything_from_another_host(self, client: httpx.AsyncClient) -> None:
        for path in _loaded_files(await _page(client)):
            text = (ASSETS / Path(path).name).read_text(encoding="utf-8")
            assert OUTSIDE_LOADS.findall(text) == [], path

    async def test_only_what_the_page_loads_is_kept_with_the_licences(self, client: httpx.AsyncClient) -> None:
        # given
        loaded = {Path(path).name for path in _loaded_files(await _page(client))}
        # when
        kept = {file.name for file in ASSETS.iterdir()}
        # then
        assert kept - loaded == {"LICENSE-react.txt", "LICENSE-graphiql.txt", "LICENSE-graphiql-explorer.txt"}

    def test_the_readme_records_each_file(self) -> None:
        readme = (GRAPHIQL / "README.md").read_text(encoding="utf-8")
        for file in ASSETS.iterdir():
            assert f"`{file.name}`" in readme, file.name


class TestProduction:
    @pytest.fixture
    async def production_client(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[httpx.AsyncClient]:
        config = dataclasses.replace(TEST_CONFIG, environment="production")
        transport = httpx.ASGITransport(app=create_app(config, sessionmaker=sessionmaker))
        async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
            yield client

    async def test_no_page(self, production_client: httpx.AsyncClient) -> None:
        response = await production_client.get("/graphql", headers=HTML)
        assert not response.headers["content-type"].startswith("text/html")
        assert "graphiql" not in response.text.lower()

    async def test_no_files(self, production_client: httpx.AsyncClient) -> None:
        for name in ("graphiql.min.js", "graphiql.min.css", "LICENSE-graphiql.txt"):
            response = await production_client.get(f"/graphiql/{name}")
            assert response.status_code == 404, name


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def served(database_url: str, engine: AsyncEngine) -> AsyncIterator[str]:
    """The service under uvicorn on a free loopback port, on the test database (`engine` migrated it)."""
    port = free_port()
    process = _uvicorn(port, database_url)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(process, base_url)
        yield base_url
    finally:
        process.terminate()
        await asyncio.to_thread(process.communicate, None, 20)


def _uvicorn(port: int, database_url: str) -> subprocess.Popen[str]:
    env = cli_env(CASETIME_ENV="test", DATABASE_URL=database_url)
    command = [sys.executable, "-m", "uvicorn", "edge.app:app", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _dump_dom(chromium: str, url: str) -> str:
    """The page as headless Chromium rendered it, its scripts given time to run and fetch the schema."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed: the rendered page is not checked")
async def test_chromium_renders_the_editor_with_no_other_host(served: str) -> None:
    # when
    dom = await asyncio.to_thread(_dump_dom, _chromium() or "chromium", f"{served}/graphql")
    # then: GraphiQL's own elements, its CodeMirror editors among them, in place of the placeholder
    assert "graphiql-container" in dom
    assert "CodeMirror" in dom
    assert "graphiql-editor-tool" in dom  # the variables and headers editors
    assert "Loading GraphiQL" not in dom
