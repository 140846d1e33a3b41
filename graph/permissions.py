"""The one place that decides which role may use which root field (SPEC 5a)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from graph.context import Info
from graph.errors import forbidden, unauthenticated
from services.auth import Viewer


def _viewer(info: Info) -> Viewer:
    if info.context.viewer is None:
        raise unauthenticated()
    return info.context.viewer


class Authenticated(BasePermission):
    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        _viewer(info)
        return True


class Administrator(BasePermission):
    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not _viewer(info).is_administrator:
            raise forbidden()
        return True


class Invoicer(BasePermission):
    """Billing staff: roles with `canInvoice`, and administrators."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not _viewer(info).is_billing_staff:
            raise forbidden()
        return True


# what a root field declares as its `permission_classes`
USER: list[type[BasePermission]] = [Authenticated]
ADMIN: list[type[BasePermission]] = [Administrator]
BILLING: list[type[BasePermission]] = [Invoicer]
