"""The GraphQL HTTP endpoint: body limits, cached parse and validation, one session per request.

Parsing and validation run before any database work, so a refused operation costs no SQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from db import trouble
from db.session import request_db
from edge import browser
from edge.execution import NotPlannable, Plan
from edge.limits import MAX_COMMENTS, MAX_NODES, MAX_TOKENS, VALIDATION_RULES, NodeCost, too_many_nodes
from edge.observability import note_answer, note_operation, note_viewer
from edge.trusted import digest_of, load_documents
from graph import inputs
from graph.context import Context
from graph.errors import TopCode
from graph.loaders import Loaders
from graph.strawberry_internals import ValidationAbortedError, await_maybe
from services import auth, read_your_writes, validation, visibility
from services.passwords import Passwords
from services.read_your_writes import ReadYourWrites
from settings import Config

log = logging.getLogger("casetime.graphql")

MAX_BODY = 1024 * 1024
MAX_HEADERS = 16 * 1024
# Longer documents are prepared every time: a cache of 512 one-megabyte documents would be a memory leak to order
MAX_CACHED_QUERY = 20_000
RETRY_AFTER_S = 1
# A 5,000-token document takes a few hundred milliseconds to parse and validate: off the event loop with it
OFFLOAD_QUERY = 4_000


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    plans: dict[str | None, Plan | None] = field(default_factory=dict, compare=False)  # by operation name
    costs: dict[str | None, NodeCost] = field(default_factory=dict, compare=False)  # by operation name

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        assert self.document is not None
        operations = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name and o.name.value == name), None)

    def cost(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> NodeCost:
        """The operation's worst case in nodes, worked out once (SPEC 12)."""
        key = operation.name.value if operation.name else None
        if key not in self.costs:
            assert self.document is not None
            self.costs[key] = NodeCost(schema, self.document, operation)
        return self.costs[key]

    def plan(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> Plan | None:
        """The operation planned for edge.execution, once; None when only graphql-core runs it."""
        key = operation.name.value if operation.name else None
        if key not in self.plans:
            assert self.document is not None
            try:
                self.plans[key] = Plan(schema, self.document, operation)
            except NotPlannable:
                self.plans[key] = None
        return self.plans[key]


@dataclass(frozen=True, slots=True)
class Ready:
    """An operation fit to run."""

    prepared: Prepared
    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any] | None
    operation_name: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an operation does not run: its errors as an answer writes them, and the HTTP status to send them with."""

    errors: list[dict[str, Any]]
    status: int = 200
    headers: dict[str, str] | None = None
    with_data: bool = True  # a refusal before validation also says `"data": null`

    @classmethod
    def of(cls, code: TopCode, message: str, status: int = 200, headers: dict[str, str] | None = None) -> Refusal:
        return cls([{"message": message, "extensions": {"code": code.value}}], status, headers)

    def response(self) -> Response:
        body: dict[str, Any] = {"errors": self.errors, "data": None} if self.with_data else {"errors": self.errors}
        return _json(body, self.status, self.headers)


def over_post(kind: OperationType) -> Refusal | None:
    """What HTTP POST runs: queries and mutations."""
    if kind is OperationType.SUBSCRIPTION:
        message = "Subscriptions run over the websocket at /graphql (graphql-transport-ws)"
        return Refusal.of(TopCode.BAD_REQUEST, message, 400)
    return None


def over_get(kind: OperationType) -> Refusal | None:
    """What HTTP GET runs: queries."""
    if kind is OperationType.MUTATION:
        return Refusal.of(TopCode.METHOD_NOT_ALLOWED, "Mutations need POST", 405, {"Allow": "POST"})
    return over_post(kind)


class HeaderLimit:
    """HTTP 431 for requests whose headers exceed MAX_HEADERS in all, before any route reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _headers_size(scope["headers"]) > MAX_HEADERS:
            message = f"Request headers exceed {MAX_HEADERS} bytes"
            await _error_response(TopCode.HEADERS_TOO_LARGE, message, 431)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _headers_size(headers: list[tuple[bytes, bytes]]) -> int:
    """Bytes of the header lines as sent: name, ": ", value and CRLF each (thousands of empty headers add up too)."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


class GraphQLEndpoint:
    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        config: Config,
        # resolved per request (set in lifespan), for a query or not
        sessionmaker: Callable[..., async_sessionmaker[AsyncSession]],
        read_sessionmaker: Callable[..., async_sessionmaker[AsyncSession] | None] = lambda query: None,
        passwords: Passwords,
    ) -> None:
        self.schema = schema
        self.config = config
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.read_your_writes = ReadYourWrites(config.read_your_writes_seconds)
        self.passwords = passwords
        self._prepare = _preparer(schema, config)
        self._cached_prepare = lru_cache(maxsize=512)(self._prepare)
        self.trusted = trusted_documents(schema, config)

    def prepare(self, query: str) -> Prepared:
        return self._cached_prepare(query) if len(query) <= MAX_CACHED_QUERY else self._prepare(query)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read an answer
        except Exception as error:  # outside any field (parsing, authentication, the session): coded, never a trace
            if _database_trouble(error):
                return _retry_later()
            log.exception("unexpected error outside a field")
            return _error_response(TopCode.INTERNAL, "Internal server error", 500)

    async def _handle(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._get(request)
        if request.method != "POST":
            return _error_response(TopCode.METHOD_NOT_ALLOWED, "Use GET or POST", 405)
        if not _json_content(request):
            # a form or text/plain POST is what a page on another site can send without a preflight (CSRF)
            message = "Send the request as Content-Type: application/json"
            return _error_response(TopCode.UNSUPPORTED_MEDIA_TYPE, message, 415)
        body = await _read_body(request)
        if body is None:
            return _error_response(TopCode.PAYLOAD_TOO_LARGE, f"Request body exceeds {MAX_BODY} bytes", 413)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error_response(TopCode.BAD_REQUEST, "Request body is not valid JSON", 400)
        if (problem := _json_problem(body)) is not None:
            return _error_response(TopCode.BAD_REQUEST, problem, 400)
        if isinstance(payload, list):
            return _error_response(TopCode.LIMIT_EXCEEDED, "Batched operations are not allowed", 200)
        if not isinstance(payload, dict):
            return _error_response(TopCode.BAD_REQUEST, "Request body must be a JSON object", 400)
        return await self._run(request, payload, allow_mutation=True)

    async def _get(self, request: Request) -> Response:
        params = request.query_params
        if "query" not in params and "documentId" not in params:
            if self.config.production:
                return _error_response(TopCode.BAD_REQUEST, "No query given", 400)
            return browser.graphiql_page()
        payload: dict[str, Any] = {key: params.get(key) for key in ("query", "documentId", "operationName")}
        if params.get("variables"):
            try:
                payload["variables"] = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return _error_response(TopCode.BAD_REQUEST, "variables is not valid JSON", 400)
        return await self._run(request, payload, allow_mutation=False)

    async def _run(self, request: Request, payload: dict[str, Any], *, allow_mutation: bool) -> Response:
        ready = await self.ready(payload, over_post if allow_mutation else over_get)
        if isinstance(ready, Refusal):
            return ready.response()
        plan = ready.prepared.plan(self.schema, ready.operation)
        query = ready.operation.operation is OperationType.QUERY
        result = await self._execute(request, ready.document, ready.variables, ready.operation_name, plan, query=query)
        return self._answer(result)

    async def ready(
        self, payload: dict[str, Any], allowed: Callable[[OperationType], Refusal | None]
    ) -> Ready | Refusal:
        """The payload's operation parsed, validated and within every limit, or why it does not run; `allowed` says
        which kinds of operation the transport runs."""
        variables, operation_name = payload.get("variables"), payload.get("operationName")
        document = self._document(payload)
        if isinstance(document, Refusal):
            return document
        if variables is not None and not isinstance(variables, dict):
            return Refusal.of(TopCode.BAD_REQUEST, "variables must be an object", 400)
        if operation_name is not None and not isinstance(operation_name, str):
            return Refusal.of(TopCode.BAD_REQUEST, "operationName must be a string", 400)
        if isinstance(document, Prepared):
            prepared = document  # trusted: parsed and validated at start
        else:
            offload = len(document) > OFFLOAD_QUERY
            prepared = await asyncio.to_thread(self.prepare, document) if offload else self.prepare(document)
        if prepared.errors:
            return Refusal([self._format(e) for e in prepared.errors], with_data=False)
        operation = prepared.operation(operation_name)
        if operation is None:
            return Refusal.of(TopCode.BAD_REQUEST, "Unknown or ambiguous operationName", 400)
        note_operation(operation)
        if (refused := allowed(operation.operation)) is not None:
            return refused
        assert prepared.document is not None
        nodes = prepared.cost(self.schema, operation).nodes(variables)
        if nodes > MAX_NODES:
            return Refusal.of(TopCode.LIMIT_EXCEEDED, too_many_nodes(nodes))
        if inputs.holds_nul(variables):
            return Refusal.of(TopCode.VALIDATION, inputs.NUL_MESSAGE)
        return Ready(prepared, prepared.document, operation, variables, operation_name)

    def _document(self, payload: dict[str, Any]) -> Prepared | str | Refusal:
        """The request's trusted document by `documentId`, or its `query` text to prepare, or why neither runs."""
        query, document_id = payload.get("query"), payload.get("documentId")
        if query is not None and self.config.trusted_documents_only:
            message = "Only trusted documents run here: send documentId instead of query"
            return Refusal.of(TopCode.PERSISTED_DOCUMENT_REQUIRED, message, 200)
        if document_id is None:
            if not isinstance(query, str) or not query.strip():
                return Refusal.of(TopCode.BAD_REQUEST, "No query given", 400)
            return query
        if query is not None:
            return Refusal.of(TopCode.BAD_REQUEST, "Send either query or documentId, not both", 400)
        if not isinstance(document_id, str):
            return Refusal.of(TopCode.BAD_REQUEST, "documentId must be a string", 400)
        digest = digest_of(document_id)
        prepared = self.trusted.get(digest) if digest else None
        if prepared is None:
            message = f"No trusted document has the documentId {validation.clipped(document_id)!r}"
            return Refusal.of(TopCode.PERSISTED_DOCUMENT_NOT_FOUND, message, 200)
        return prepared

    def _answer(self, result: ExecutionResult) -> Response:
        if any(e.original_error is not None and _database_trouble(e.original_error) for e in result.errors or ()):
            return _retry_later()  # whatever else was answered came from a request the client must repeat
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [self._format(e) for e in result.errors]
        body["data"] = result.data
        return _json(body)

    async def _execute(
        self,
        request: Request,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        plan: Plan | None,
        *,
        query: bool,
    ) -> ExecutionResult:
        token = _bearer(request)
        replica = self.read_sessionmaker(query=query)
        async with request_db(self.sessionmaker(query=query), query=query) as db, AsyncExitStack() as stack:
            async with db.reader() as reader:
                viewer = await auth.authenticate(reader, token=token) if token else None
                note_viewer(viewer)
                policy = await visibility.for_viewer(reader, viewer)
                if replica is not None and not query and self.read_your_writes.needs_mark(viewer):
                    await read_your_writes.mark(reader, viewer.employee_id)
            read_db = db  # a mutation, its payload included, reads only the primary
            if replica is not None and query and not self.read_your_writes.reads_primary(viewer):
                read_db = await stack.enter_async_context(request_db(replica, query=query))
            context = Context(
                db=db,
                read_db=read_db,
                viewer=viewer,
                visibility=policy,
                loaders=Loaders(db, read_db),
                config=self.config,
                passwords=self.passwords,
                token=token if viewer else None,
                client_address=request.client.host if request.client else None,
            )
            if plan is not None:
                executor = Executor.build(
                    self.schema,
                    document,
                    context_value=context,
                    raw_variable_values=variables,
                    operation_name=operation_name,
                    hide_suggestions=self.config.production,
                )
                if not isinstance(executor, list):  # else variables refused: graphql-core writes the errors
                    context.compiled = plan.compiled
                    answer = await plan.execute(executor)
                    if answer is not None:
                        return answer
                    context.compiled = None
            return await await_maybe(
                execute(
                    self.schema,
                    document,
                    context_value=context,
                    variable_values=variables,
                    operation_name=operation_name,
                    hide_suggestions=self.config.production,
                )
            )

    def _format(self, error: GraphQLError) -> dict[str, Any]:
        code = (error.extensions or {}).get("code")
        if code is None and not _unexpected(error):
            # before execution: syntax, validation and variable coercion all mean the request is wrong
            code = (TopCode.LIMIT_EXCEEDED if _aborted(error) else TopCode.VALIDATION).value
        if code is None:
            log.error("unexpected error at %s", error.path, exc_info=error.original_error or error)
            masked: dict[str, Any] = {"message": "Internal server error", "extensions": {"code": TopCode.INTERNAL}}
            if error.path:
                masked["path"] = error.path
            return masked
        # graphql-core's messages quote refused values whole (SPEC 12: at most 100 characters of them)
        formatted: dict[str, Any] = {"message": validation.clip_quotes(error.message), "extensions": {"code": code}}
        if error.locations:
            formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.path:
            formatted["path"] = error.path
        return formatted


def _preparer(schema: GraphQLSchema, config: Config) -> Callable[[str], Prepared]:
    """Parsing and validation as every request's document gets them."""
    introspection = (NoSchemaIntrospectionCustomRule,) if config.production else ()
    rules = (*VALIDATION_RULES, inputs.NoNulInLiterals, *introspection)

    def prepare(query: str) -> Prepared:
        try:
            document = parse(query, max_lexical_tokens=MAX_TOKENS, max_comments=MAX_COMMENTS)
        except GraphQLError as error:
            return Prepared(None, (error,))
        return Prepared(document, tuple(validate(schema, document, rules, hide_suggestions=config.production)))

    return prepare


def trusted_documents(schema: GraphQLSchema, config: Config) -> dict[str, Prepared]:
    """The trusted documents by digest (SPEC 12), parsed, validated, costed and planned once, so that no request
    waits for them; a ConfigError for any flaw of the manifest."""
    documents = load_documents(config, _preparer(schema, config))
    for prepared in documents.values():
        assert prepared.document is not None
        for operation in prepared.document.definitions:
            if isinstance(operation, OperationDefinitionNode):
                prepared.cost(schema, operation)
                prepared.plan(schema, operation)
    return documents


def _unexpected(error: GraphQLError) -> bool:
    """Raised under a field, or by something other than a refusal of the input (a scalar raises ValueError)."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):  # coercion wraps the scalar's error once or twice
        cause = cause.original_error
    return error.path is not None or not (cause is None or isinstance(cause, ValueError | TypeError))


def _aborted(error: GraphQLError) -> bool:
    """Parsing or validation gave up on the document's size or cost: too many tokens, comments, nesting, work."""
    if isinstance(error, ValidationAbortedError):
        return True
    return isinstance(error, GraphQLSyntaxError) and error.message.endswith("Parsing aborted.")


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


JSON_MEDIA_TYPES = frozenset({"application/json", "application/graphql-response+json"})


def _json_content(request: Request) -> bool:
    media_type, _, _ = request.headers.get("content-type", "").partition(";")
    return media_type.strip().lower() in JSON_MEDIA_TYPES


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _RepeatedKey
    return found


def _json_problem(body: bytes) -> str | None:
    """What makes `body` (JSON orjson read) unfit, beyond its syntax: an object naming a key twice, which orjson would
    silently resolve to the last, so that two readers of one body could see two requests; or nesting too deep to
    check that. Only bodies with more than one key can repeat one; those are read again by the standard library,
    which reports every pair."""
    if body.count(b":") < 2:
        return None
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except _RepeatedKey:
        return "Request body repeats a key of one JSON object"
    except RecursionError:
        return "Request body nests too deeply"
    return None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _database_trouble(error: BaseException) -> bool:
    """The database could not answer (down, connection lost, pool exhausted, a statement timed out): try again."""
    unavailable = trouble.unavailable(error)
    if unavailable:
        log.warning("database unavailable: %s", error.__class__.__name__)
    return unavailable or trouble.busy(error)


def _retry_later() -> Response:
    message = "The service is busy or its database unavailable; try again shortly"
    return _error_response(TopCode.BUSY, message, 503, {"Retry-After": str(RETRY_AFTER_S)})


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    note_answer(body)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error_response(code: TopCode, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Refusal.of(code, message, status, headers).response()
