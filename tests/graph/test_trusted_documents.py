"""Trusted documents (SPEC 12): a manifest of registered documents, sent by `documentId` instead of their text.

The manifest is read, checked, parsed and validated once at start; a flaw in it refuses the start in one line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import edge.http
from edge.app import create_app
from edge.http import Prepared
from edge.trusted import digest_of, load_documents
from graph import ids
from settings import Config, ConfigError
from tests.conftest import TEST_CONFIG, StatementCounter
from tests.deploy_support import cli_env, cli_process, finish, free_port
from tests.factories import Factory, error_codes

VIEWER = "query Viewer { viewer { name } }"
CASE_OPTIONS = "query CaseOptions($debtorId: ID!) { caseOptions(debtorId: $debtorId) { code } }"
TWO_OPERATIONS = "query Mine { viewer { name } }\nquery Settings { settings { timeZone } }"
LOGOUT = "mutation Logout { logout }"
REGISTERED = (VIEWER, CASE_OPTIONS, TWO_OPERATIONS, LOGOUT)
UNREGISTERED = "query { viewer { email } }"

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_manifest(path: Path, documents: dict[str, str]) -> Path:
    path.write_text(json.dumps(documents))
    return path


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """What GraphQL codegen's persisted documents write: {"<sha256 hex>": "<document text>"}."""
    return write_manifest(tmp_path / "persisted-documents.json", {sha256(text): text for text in REGISTERED})


@pytest.fixture
def serve(sessionmaker: async_sessionmaker[AsyncSession], manifest: Path) -> Serve:
    """A client of an app started with the manifest, trusted documents only or not."""

    @asynccontextmanager
    async def serving(*, only: bool = False) -> AsyncIterator[httpx.AsyncClient]:
        config = replace(TEST_CONFIG, trusted_documents=manifest, trusted_documents_only=only)
        transport = httpx.ASGITransport(app=create_app(config, sessionmaker=sessionmaker))
        async with httpx.AsyncClient(transport=transport, base_url="http://casetime.test") as client:
            yield client

    return serving


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document the endpoint parses or validates from here on (by its first line)."""
    seen: list[str] = []
    real_parse, real_validate = graphql.parse, graphql.validate

    def parse(source: Any, **kwargs: Any) -> Any:
        seen.append(f"parse {str(source).splitlines()[0]}")
        return real_parse(source, **kwargs)

    def validate(*args: Any, **kwargs: Any) -> Any:
        seen.append("validate")
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(edge.http, "parse", parse)
    monkeypatch.setattr(edge.http, "validate", validate)
    return seen


async def post(client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json=body, headers=headers)
    answer: dict[str, Any] = response.json()
    return response.status_code, answer


class TestByDocumentId:
    @pytest.mark.parametrize("prefix", ["sha256:", ""], ids=["sha256-prefixed", "bare-hex"])
    async def test_a_registered_document_runs_by_post(self, serve: Serve, factory: Factory, prefix: str) -> None:
        # given
        token = await factory.token(await factory.employee(name="Trusted Tess"))
        async with serve() as client:
            # when
            status, body = await post(client, {"documentId": prefix + sha256(VIEWER)}, token)
        # then
        assert (status, body) == (200, {"data": {"viewer": {"name": "Trusted Tess"}}})

    async def test_a_registered_query_runs_by_get_with_its_variables(self, serve: Serve, factory: Factory) -> None:
        # given
        debtor = await factory.debtor()
        await factory.case(debtor=debtor, code="ON-GET")
        token = await factory.token(await factory.employee())
        variables = json.dumps({"debtorId": ids.encode("Debtor", debtor.id)})
        async with serve() as client:
            # when
            response = await client.get(
                "/graphql",
                params={"documentId": f"sha256:{sha256(CASE_OPTIONS)}", "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        # then
        assert response.status_code == 200
        assert response.json() == {"data": {"caseOptions": [{"code": "ON-GET"}]}}

    async def test_a_registered_mutation_by_get_needs_post(self, serve: Serve, factory: Factory) -> None:
        # given
        token = await factory.token(await factory.employee())
        async with serve() as client:
            # when
            response = await client.get(
                "/graphql", params={"documentId": sha256(LOGOUT)}, headers={"Authorization": f"Bearer {token}"}
            )
        # then
        assert response.status_code == 405
        assert error_codes(response.json()) == ["METHOD_NOT_ALLOWED"]

    async def test_operation_name_picks_one_of_a_documents_operations(self, serve: Serve, factory: Factory) -> None:
        # given
        token = await factory.token(await factory.employee())
        async with serve() as client:
            # when
            _, body = await post(client, {"documentId": sha256(TWO_OPERATIONS), "operationName": "Settings"}, token)
        # then
        assert body == {"data": {"settings": {"timeZone": "UTC"}}}

    async def test_a_registered_document_is_not_parsed_or_validated_again(
        self, serve: Serve, factory: Factory, parses: list[str]
    ) -> None:
        # given: the app has started, so its manifest was read and prepared
        token = await factory.token(await factory.employee())
        async with serve() as client:
            parses.clear()
            # when
            for _ in range(3):
                _, body = await post(client, {"documentId": sha256(VIEWER)}, token)
                assert "errors" not in body
            # then
            assert parses == []
            # while text sent alongside is parsed and validated as ever
            await post(client, {"query": UNREGISTERED}, token)
            assert parses == [f"parse {UNREGISTERED}", "validate"]

    @pytest.mark.parametrize(
        "document_id",
        [
            pytest.param(f"sha256:{sha256(UNREGISTERED)}", id="unregistered"),
            pytest.param("sha256:" + "0" * 64, id="zeros"),
            pytest.param(f"md5:{sha256(VIEWER)}", id="other-algorithm"),
            pytest.param("not-a-digest", id="malformed"),
            pytest.param("", id="empty"),
        ],
    )
    async def test_an_unknown_id_is_persisted_document_not_found(
        self, serve: Serve, factory: Factory, sql_statements: StatementCounter, document_id: str
    ) -> None:
        # given
        token = await factory.token(await factory.employee())
        async with serve() as client:
            before = sql_statements.count
            # when
            status, body = await post(client, {"documentId": document_id}, token)
        # then: nothing ran, not even the token's lookup
        assert (status, error_codes(body), body["data"]) == (200, ["PERSISTED_DOCUMENT_NOT_FOUND"], None)
        assert sql_statements.count == before

    async def test_query_and_document_id_together_are_a_bad_request(self, serve: Serve, factory: Factory) -> None:
        # given
        token = await factory.token(await factory.employee())
        async with serve() as client:
            # when
            status, body = await post(client, {"documentId": sha256(VIEWER), "query": VIEWER}, token)
        # then
        assert (status, error_codes(body)) == (400, ["BAD_REQUEST"])

    async def test_a_document_id_that_is_no_string_is_a_bad_request(self, serve: Serve) -> None:
        async with serve() as client:
            # when
            status, body = await post(client, {"documentId": 42})
        # then
        assert (status, error_codes(body)) == (400, ["BAD_REQUEST"])

    async def test_the_gates_still_apply(self, serve: Serve) -> None:
        async with serve() as client:
            # when: a registered document without a token
            _, body = await post(client, {"documentId": sha256(VIEWER)})
        # then
        assert error_codes(body) == ["UNAUTHENTICATED"]


class TestTrustedDocumentsOnly:
    async def test_text_is_refused_and_nothing_runs(
        self, serve: Serve, factory: Factory, sql_statements: StatementCounter
    ) -> None:
        # given: even the text of a registered document
        token = await factory.token(await factory.employee())
        async with serve(only=True) as client:
            before = sql_statements.count
            # when
            answers = [await post(client, {"query": text}, token) for text in (VIEWER, UNREGISTERED, LOGOUT)]
            by_get = await client.get(
                "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
            )
        # then
        assert [(status, error_codes(body)) for status, body in answers] == [
            (200, ["PERSISTED_DOCUMENT_REQUIRED"]),
        ] * 3
        assert error_codes(by_get.json()) == ["PERSISTED_DOCUMENT_REQUIRED"]
        assert sql_statements.count == before

    async def test_a_registered_id_still_runs(self, serve: Serve, factory: Factory) -> None:
        # given
        token = await factory.token(await factory.employee(name="Only Olga"))
        async with serve(only=True) as client:
            # when
            _, body = await post(client, {"documentId": f"sha256:{sha256(VIEWER)}"}, token)
        # then
        assert body == {"data": {"viewer": {"name": "Only Olga"}}}

    async def test_without_only_mode_text_runs_beside_ids(self, serve: Serve, factory: Factory) -> None:
        # given
        token = await factory.token(await factory.employee(name="Mixed Max"))
        async with serve(only=False) as client:
            # when
            _, body = await post(client, {"query": UNREGISTERED}, token)
        # then
        assert "errors" not in body
        assert body["data"]["viewer"]["email"]


def _bad_manifests(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Manifests that must refuse the start, with what the one line says."""
    invalid = "query { noSuchField }"
    too_deep = "query { " + "node(id: 1) { " * 20 + "id" + " }" * 21
    return {
        "hash-mismatch": (
            write_manifest(tmp_path / "mismatch.json", {sha256(VIEWER): UNREGISTERED}),
            "is not the SHA-256 of its document",
        ),
        "sha1-keys": (
            write_manifest(tmp_path / "sha1.json", {hashlib.sha1(VIEWER.encode()).hexdigest(): VIEWER}),
            "is not the SHA-256 of its document",
        ),
        "invalid-document": (
            write_manifest(tmp_path / "invalid.json", {sha256(invalid): invalid}),
            f"document {sha256(invalid)} is invalid: Cannot query field 'noSuchField'",
        ),
        "over-a-limit": (write_manifest(tmp_path / "deep.json", {sha256(too_deep): too_deep}), "is invalid"),
        "not-json": (_text(tmp_path / "broken.json", '{"abc": '), "is not JSON"),
        "not-an-object": (_text(tmp_path / "list.json", json.dumps([VIEWER])), "must be a JSON object"),
        "missing": (tmp_path / "nowhere.json", "cannot be read: No such file or directory"),
        "a-directory": (tmp_path, "cannot be read"),
    }


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD_MANIFESTS = ["hash-mismatch", "sha1-keys", "invalid-document", "over-a-limit", "not-json", "not-an-object"]


class TestABadManifestRefusesToStart:
    @pytest.mark.parametrize("kind", [*BAD_MANIFESTS, "missing", "a-directory"])
    def test_create_app_refuses_in_one_line(self, tmp_path: Path, kind: str) -> None:
        # given
        path, expected = _bad_manifests(tmp_path)[kind]
        # when
        with pytest.raises(ConfigError) as refused:
            create_app(replace(TEST_CONFIG, trusted_documents=path))
        # then
        message = str(refused.value)
        assert message.startswith(f"TRUSTED_DOCUMENTS ({path})")
        assert expected in message
        assert "\n" not in message

    def test_only_mode_without_a_manifest_is_refused(self) -> None:
        # when / then
        with pytest.raises(ConfigError, match="TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS"):
            create_app(replace(TEST_CONFIG, trusted_documents_only=True))

    def test_the_loader_keeps_every_document_by_its_digest(self, manifest: Path) -> None:
        # when
        loaded = load_documents(Config(trusted_documents=manifest), lambda text: Prepared(None, ()))
        # then
        assert sorted(loaded) == sorted(sha256(text) for text in REGISTERED)

    async def test_serve_says_so_in_one_line_and_exits_2(self, tmp_path: Path, database_url: str) -> None:
        # given: a database that answers and is migrated, in production so no demo data goes into it
        path, _ = _bad_manifests(tmp_path)["hash-mismatch"]
        env = cli_env(
            CASETIME_ENV="production", DATABASE_URL=database_url, PORT=str(free_port()), TRUSTED_DOCUMENTS=str(path)
        )
        process = cli_process("serve", env=env)
        # when
        try:
            finished = await finish(process)
        finally:
            if process.poll() is None:  # it served after all: stop it, and let the assertion say so
                process.kill()
                process.wait()
        # then
        assert finished.status == 2
        assert finished.refusal.startswith(f"casetime: TRUSTED_DOCUMENTS ({path}): the key")


def test_a_document_id_names_its_digest() -> None:
    digest = sha256(VIEWER)
    assert digest_of(f"sha256:{digest}") == digest_of(digest) == digest_of(digest.upper()) == digest
    assert digest_of(f"sha256:{digest}x") is None
    assert digest_of(digest[:-1]) is None
