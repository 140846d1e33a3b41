"""Trusted documents (SPEC 12): the manifest of registered operations, read, checked and prepared once at start.

The manifest is what GraphQL codegen's persisted documents write: a JSON object mapping the hex SHA-256 of each
document's text to that text. A request then names a document by `documentId` ("sha256:<hex>", or the bare hex)
and skips parsing and validation. Any flaw in the manifest refuses the start with one line (a ConfigError).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from graphql import GraphQLError

from settings import Config, ConfigError

_DOCUMENT_ID = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


class Checked(Protocol):
    """A document once parsed and validated: what refused it, if anything."""

    @property
    def errors(self) -> Sequence[GraphQLError]: ...


P = TypeVar("P", bound=Checked)


def digest_of(document_id: str) -> str | None:
    """The lowercase hex SHA-256 a `documentId` names, or None when it is not one."""
    match = _DOCUMENT_ID.fullmatch(document_id)
    return match[1].lower() if match else None


def read_manifest(path: Path) -> dict[str, str]:
    """{hex SHA-256: document text}, each key checked to be the SHA-256 of its text's UTF-8 bytes."""
    where = f"TRUSTED_DOCUMENTS ({path})"
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as error:
        raise ConfigError(f"{where} cannot be read: {error.strerror or error}") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError both are
        raise ConfigError(f"{where} is not JSON: {error}") from None
    if not isinstance(manifest, dict) or not all(isinstance(text, str) for text in manifest.values()):
        raise ConfigError(f'{where} must be a JSON object of "<sha256 hex>": "<document text>" pairs')
    documents: dict[str, str] = {}
    for key, text in manifest.items():
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest_of(key) != digest:
            raise ConfigError(f"{where}: the key {key[:80]!r} is not the SHA-256 of its document, which is {digest}")
        documents[digest] = text
    return documents


def load_documents(config: Config, prepare: Callable[[str], P]) -> dict[str, P]:
    """The manifest's documents by digest, each prepared (parsed and validated) by `prepare`; none without one.

    Only-mode without a manifest would refuse every request, so it is refused at start instead."""
    if config.trusted_documents is None:
        if config.trusted_documents_only:
            raise ConfigError("TRUSTED_DOCUMENTS_ONLY=true needs TRUSTED_DOCUMENTS, the manifest of documents to run")
        return {}
    prepared: dict[str, P] = {}
    for digest, text in read_manifest(config.trusted_documents).items():
        document = prepare(text)
        if document.errors:
            reason = " ".join(document.errors[0].message.split())
            raise ConfigError(f"TRUSTED_DOCUMENTS ({config.trusted_documents}): document {digest} is invalid: {reason}")
        prepared[digest] = document
    return prepared
