"""Opaque global IDs: base64url of "Type:id". Malformed or foreign IDs decode to None (SPEC 5b), and so do numbers
beyond what the type's key column holds (SPEC 12): no row has them, and asyncpg would refuse to send them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

import strawberry

from models import Activity, Base, Case, Debtor, Employee, Invoice, Role, TimeEntry, Timer, Webhook, WebhookDelivery
from services import validation
from services.errors import not_found

_NODES: tuple[type[Base], ...] = (
    Activity,
    Case,
    Debtor,
    Employee,
    Invoice,
    Role,
    TimeEntry,
    Timer,
    Webhook,
    WebhookDelivery,
)
# each ID's type is named as its model; the largest id follows from the model's key column
MAX_ID = {model.__name__: validation.integer_range(model.__mapper__.primary_key[0].type)[1] for model in _NODES}


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def urlsafe_b64(data: bytes) -> bytes:
    """`base64.urlsafe_b64encode` in two C calls (it costs ~1 µs more through the base64 module)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE)


def prefix(type_name: str) -> str:
    """What an ID encodes before its row's id (`encode`)."""
    return f"{type_name}:"


def encode(type_name: str, db_id: int) -> strawberry.ID:
    return strawberry.ID(urlsafe_b64(f"{type_name}:{db_id}".encode()).rstrip(b"=").decode())


def decode_any(global_id: str) -> tuple[str, int] | None:
    if not isinstance(global_id, str) or len(global_id) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, number = raw.partition(":")
    if not number.isdigit() or not number.isascii() or len(number) > 19:
        return None
    db_id = int(number)
    return (type_name, db_id) if 0 < db_id <= MAX_ID.get(type_name, 0) else None


def decode(global_id: str, type_name: str) -> int | None:
    decoded = decode_any(global_id)
    return decoded[1] if decoded and decoded[0] == type_name else None


def require(global_id: str, type_name: str, field: str) -> int:
    """Decode or raise NOT_FOUND for `field`: a malformed or foreign ID is treated as not found."""
    db_id = decode(global_id, type_name)
    if db_id is None:
        raise not_found(type_name, field)
    return db_id


def decode_all(global_ids: Sequence[str] | None, type_name: str) -> list[int] | None:
    """The IDs of `type_name` among `global_ids`; the others are dropped (they match nothing)."""
    if global_ids is None:
        return None
    return [db_id for db_id in (decode(g, type_name) for g in global_ids) if db_id is not None]
