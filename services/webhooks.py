"""Webhooks (SPEC 13): administrators register endpoints that are POSTed each event of the types they choose; every
attempt is recorded on the webhook's deliveries, and a delivery can be sent again.

A webhook receives the events after the event feed's position when it was made or last switched on (`from_xid`,
`from_event_id`): none from before it existed, and none from while it was off. Its secret is written, never read
back. Sending is services/webhook_delivery.py's.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TypedDict, cast
from urllib.parse import urlsplit

import httpx
import sqlalchemy
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import Reader
from models import DeliveryStatus, Webhook, WebhookDelivery
from services import event_feed, events, paging, validation
from services.errors import invalid, not_found
from services.integrity import touch
from services.paging import AnyRow, Count, Keyset, Ordered, Page, Window
from services.webhook_sending import Unreachable, public_addresses

URL_MAX = 2000
SECRET_MIN, SECRET_MAX = 16, 200
ATTEMPTS = 8  # attempts of one delivery in all, then FAILED (SPEC 13); a replay grants as many again
_SCHEMES = ("http", "https")
_UNPRINTABLE = frozenset(string.whitespace) | {chr(c) for c in range(32)} | {"\x7f"}


class WebhookData(TypedDict, total=False):
    url: str | None
    event_types: list[str] | None
    secret: str | None
    active: bool | None


def _url(value: str | None, field: str) -> str:
    """An http or https URL of at most URL_MAX characters, naming a host, without user or password."""
    url = validation.name(value, field, max_length=URL_MAX)
    wrong = invalid(f"{field} must be an http or https URL like https://example.com/hooks", field)
    if _UNPRINTABLE & set(url):
        raise wrong
    try:
        parts = urlsplit(url)
        httpx.URL(url)
        # a port out of range raises here
        usable = parts.scheme.lower() in _SCHEMES and bool(parts.hostname) and parts.port != 0
    except (ValueError, httpx.InvalidURL):
        raise wrong from None
    if not usable:
        raise wrong
    if parts.username is not None or parts.password is not None:
        raise invalid(f"{field} may not hold a user name or password", field)
    if parts.fragment:
        raise invalid(f"{field} may not hold a fragment (#…)", field)
    return url


def _event_types(value: Sequence[str] | None, field: str) -> list[str]:
    """At least one of SPEC 13's event types, each once, kept in SPEC 13's order."""
    given = validation.required(value, field)
    if not given:
        raise invalid(f"{field} may not be empty", field)
    unknown = [kind for kind in given if kind not in events.TYPES]
    if unknown:
        raise invalid(
            f"{field} must hold event types among {', '.join(events.TYPES)}, not {validation.clipped(unknown[0])!r}",
            field,
        )
    return [kind for kind in events.TYPES if kind in given]


def _secret(value: str | None, field: str) -> str:
    """SECRET_MIN to SECRET_MAX characters, taken as given (never trimmed, never quoted back)."""
    secret = validation.required(value, field)
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise invalid(f"{field} must be {SECRET_MIN} to {SECRET_MAX} characters long", field)
    if "\x00" in secret:
        raise invalid(f"{field} may not contain NUL characters", field)
    return secret


_FIELDS = validation.Fields(
    {"url": _url, "event_types": _event_types, "secret": _secret},
    needed=("url", "event_types", "secret"),
    defaulted=("active",),
)


def checked(data: WebhookData, *, creating: bool) -> WebhookData:
    """The given fields, each checked (SPEC 5b, 13); every broken rule is refused at once."""
    return cast(WebhookData, _FIELDS.checked(data, creating=creating))


async def check_addresses(data: WebhookData, *, private_allowed: bool) -> None:
    """Unless `private_allowed`, the URL's host must resolve to public addresses only (SPEC 13: in production). It
    looks the name up, so callers run it before their transaction opens."""
    url = data.get("url")
    if private_allowed or url is None:
        return
    parts = urlsplit(url)
    assert parts.hostname is not None  # `checked` first
    try:
        await public_addresses(parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80))
    except Unreachable as error:
        raise invalid(f"url must reach a public address: {error}", "url") from None


async def list_all(session: AsyncSession) -> Sequence[Webhook]:
    return (await session.scalars(select(Webhook).order_by(Webhook.id))).all()


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Webhook | None]:
    found = {w.id: w for w in (await session.scalars(select(Webhook).where(Webhook.id.in_(ids)))).all()}
    return [found.get(i) for i in ids]


async def _from_now(session: AsyncSession) -> dict[str, int]:
    """The feed position a webhook switched on now receives the events after."""
    position = await event_feed.now(session)
    return {"from_xid": position.xid, "from_event_id": position.id}


async def create(session: AsyncSession, data: WebhookData, *, by: int) -> Webhook:
    """Register a webhook (on unless `active` says otherwise); the caller checked its addresses (`check_addresses`)."""
    webhook = Webhook(**{"active": True, **checked(data, creating=True)}, created_by_id=by, **await _from_now(session))
    session.add(webhook)
    await session.flush()
    return webhook


async def update(session: AsyncSession, webhook_id: int, data: WebhookData, *, by: int) -> Webhook:
    """Change the fields given; switched on again, it receives the events from now on only."""
    given = checked(data, creating=False)
    webhook = await session.get(Webhook, webhook_id, with_for_update=True)
    if webhook is None:
        raise not_found("Webhook", "id")
    if given.get("active") and not webhook.active:
        for column, position in (await _from_now(session)).items():
            setattr(webhook, column, position)
    for key, value in given.items():
        setattr(webhook, key, value)
    webhook.updated_by_id = by
    touch(webhook)
    await session.flush()
    return webhook


_DELIVERY = WebhookDelivery.__table__


async def replay(session: AsyncSession, delivery_id: int) -> AnyRow:
    """Queue a delivery to be sent again now, whatever became of it, with ATTEMPTS more attempts before it is FAILED;
    its count of attempts goes on. A delivery being sent right now keeps its lease: it is not sent twice at once."""
    active = await session.scalar(
        select(Webhook.active)
        .join(WebhookDelivery, WebhookDelivery.webhook_id == Webhook.id)
        .where(WebhookDelivery.id == delivery_id)
    )
    if active is None:
        raise not_found("Webhook delivery", "id")
    if not active:
        raise invalid("id names a delivery of a webhook that is off: switch the webhook on first", "id")
    row = (
        await session.execute(
            sqlalchemy.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                status=DeliveryStatus.PENDING,
                next_attempt_at=func.now(),
                attempt_limit=WebhookDelivery.attempts + ATTEMPTS,
            )
            .returning(*_DELIVERY.c)
        )
    ).one()
    return cast(AnyRow, row)


DELIVERIES_KEYSET = Keyset((WebhookDelivery.id,), descending=True)  # newest first
# the deliveries of the webhook `:webhook_id`
OF_WEBHOOK = WebhookDelivery.webhook_id == bindparam("webhook_id", type_=Integer)
_DELIVERIES = Ordered(select(*_DELIVERY.c).where(OF_WEBHOOK), DELIVERIES_KEYSET)
_DELIVERIES_COUNT = Count.of(select(func.count()).select_from(_DELIVERY).where(OF_WEBHOOK))
_DELIVERIES_BY_IDS = paging.by_ids(select(*_DELIVERY.c), WebhookDelivery.id)


async def deliveries_page(reader: Reader, webhook_id: int, window: Window) -> Page[AnyRow]:
    return await _DELIVERIES.page(reader, window, params={"webhook_id": webhook_id})


async def deliveries_total(reader: Reader, webhook_id: int) -> int:
    return await _DELIVERIES_COUNT(reader, {"webhook_id": webhook_id})


async def deliveries_by_ids(reader: Reader, ids: Sequence[int]) -> list[AnyRow | None]:
    return await paging.rows_by_ids(reader, _DELIVERIES_BY_IDS, ids)
