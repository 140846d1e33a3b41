"""Test data through the real services, plus a GraphQL client helper."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity, Case, Debtor, Employee, EmployeeVisibility, Role, Webhook, WebhookDelivery
from services import activities, auth, cases, debtors, employees, roles, webhooks
from services.activities import ActivityData
from services.cases import CaseData
from services.debtors import DebtorData
from services.passwords import Passwords

PASSWORD = "correct-horse"
_sequence = itertools.count(1)


class Factory:
    def __init__(self, session: AsyncSession, passwords: Passwords) -> None:
        self.session = session
        self.passwords = passwords

    async def role(
        self,
        *,
        name: str | None = None,
        admin: bool = False,
        visibility: EmployeeVisibility = EmployeeVisibility.ALL,
        visible_role_ids: list[int] | None = None,
        can_enter_time_for_others: bool = False,
        can_invoice: bool = False,
    ) -> Role:
        return await roles.create(
            self.session,
            {
                "name": name or f"Role {next(_sequence)}",
                "is_administrator": admin,
                "employee_visibility": visibility,
                "visible_role_ids": visible_role_ids,
                "can_enter_time_for_others": can_enter_time_for_others,
                "can_invoice": can_invoice,
            },
        )

    async def employee(
        self,
        *,
        role: Role | None = None,
        name: str | None = None,
        email: str | None = None,
        supervisor: Employee | None = None,
        active: bool = True,
        default_rate: Decimal | None = None,
    ) -> Employee:
        n = next(_sequence)
        role = role or await self.role()
        return await employees.create(
            self.session,
            self.passwords,
            {
                "name": name or f"Employee {n}",
                "email": email or f"employee{n}@example.test",
                "password": PASSWORD,
                "role_id": role.id,
                "supervisor_id": supervisor.id if supervisor else None,
                "active": active,
                "default_rate": default_rate,
            },
        )

    async def token(self, employee: Employee) -> str:
        token, _ = await auth.login(
            self.session, self.passwords, email=employee.email, password=PASSWORD, ttl=timedelta(hours=1)
        )
        return token

    async def admin(self) -> tuple[Employee, str]:
        employee = await self.employee(role=await self.role(admin=True))
        return employee, await self.token(employee)

    async def debtor(self, *, code: str | None = None, **fields: Any) -> Debtor:
        n = next(_sequence)
        return await debtors.create(
            self.session, cast(DebtorData, {"code": code or f"D{n}", "name": f"Debtor {n}", **fields})
        )

    async def activity(self, *, code: str | None = None, **fields: Any) -> Activity:
        n = next(_sequence)
        data = {"code": code or f"A{n}", "name": f"Activity {n}", **fields}
        return await activities.create(self.session, cast(ActivityData, data))

    async def case(self, *, debtor: Debtor | None = None, code: str | None = None, **fields: Any) -> Case:
        debtor = debtor or await self.debtor()
        data = {"debtor_id": debtor.id, "code": code or f"C{next(_sequence)}", **fields}
        return await cases.create(self.session, cast(CaseData, data))

    async def webhook(self, *, by: Employee | None = None, **fields: Any) -> Webhook:
        """A webhook of `timer.changed` events, to a loopback port nothing listens on."""
        data = {"url": "http://127.0.0.1:9/hooks", "event_types": ["timer.changed"], "secret": "s" * 16, **fields}
        by = by or await self.employee()
        return await webhooks.create(self.session, cast(webhooks.WebhookData, data), by=by.id)

    async def delivery(self, webhook: Webhook, **columns: Any) -> WebhookDelivery:
        """A delivery to `webhook` of a new `timer.changed` event."""
        event_id = await self.session.scalar(
            text(
                "INSERT INTO events (type, record_type, record_id, data) "
                "VALUES ('timer.changed', 'Timer', 1, '{\"running\": true}') RETURNING id"
            )
        )
        delivery = WebhookDelivery(
            webhook_id=webhook.id,
            event_id=event_id,
            event_type="timer.changed",
            attempt_limit=webhooks.ATTEMPTS,
            **columns,
        )
        self.session.add(delivery)
        await self.session.flush()
        return delivery


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> dict[str, Any]:
    """POST one operation; returns the decoded body (data and errors)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
