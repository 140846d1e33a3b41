"""Idempotency keys (SPEC 6): a repeated create with the same key returns the first result, writes nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import IdempotencyKey
from services.errors import invalid

KEEP_FOR = timedelta(hours=24)
KEY_MAX = 200


def request_hash(payload: dict[str, Any]) -> bytes:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).digest()


async def claim(session: AsyncSession, *, writer_id: int, key: str, payload: dict[str, Any]) -> IdempotencyKey | None:
    """Claim `key` for this request: None when it is new, else the stored first result.

    A concurrent repeat waits on the first request's uncommitted key row (or gets BUSY at the lock timeout).
    """
    if not 1 <= len(key) <= KEY_MAX:
        raise invalid(f"idempotencyKey must be 1 to {KEY_MAX} characters", "idempotencyKey")
    digest = request_hash(payload)
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.employee_id == writer_id, IdempotencyKey.created_at < datetime.now(UTC) - KEEP_FOR
        )
    )
    inserted = await session.scalar(
        insert(IdempotencyKey)
        .values(employee_id=writer_id, key=key, request_hash=digest, warnings=[])
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if inserted is not None:
        return None
    stored = await session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.employee_id == writer_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )
    assert stored is not None
    if stored.request_hash != digest:
        raise invalid("this idempotency key was used for a different input", "idempotencyKey")
    return stored


async def record(
    session: AsyncSession,
    *,
    writer_id: int,
    key: str,
    time_entry_id: int,
    over_limit_entry_id: int | None,
    warnings: list[dict[str, str]],
) -> None:
    """What the create claimed with `key` wrote, for its repeats."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.employee_id == writer_id, IdempotencyKey.key == key)
        .values(time_entry_id=time_entry_id, over_limit_entry_id=over_limit_entry_id, warnings=warnings)
        .execution_options(synchronize_session=False)
    )
