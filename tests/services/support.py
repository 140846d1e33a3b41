"""Helpers shared by the service tests."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import DomainError


async def refused(session: AsyncSession, action: Awaitable[object]) -> DomainError:
    """Run `action` in a savepoint, as a mutation would in its transaction, and return the DomainError it raised.

    The savepoint is rolled back, so the test can keep using the session afterwards.
    """
    with pytest.raises(DomainError) as caught:
        async with session.begin_nested():
            await action
    return caught.value
