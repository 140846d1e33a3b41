"""The worker's lifespan: what startup built is frozen out of the collector's passes, and the young generation is
widened (edge/app.py), both undone by nothing else."""

from __future__ import annotations

import gc

from sqlalchemy.ext.asyncio import AsyncEngine

from edge.app import GC_YOUNG_THRESHOLD, create_app
from tests.conftest import TEST_CONFIG


async def test_startup_freezes_what_it_built_and_widens_the_young_generation(engine: AsyncEngine) -> None:
    before = gc.get_threshold()
    app = create_app(TEST_CONFIG, engine=engine)
    try:
        gc.set_threshold(700, *before[1:])
        gc.unfreeze()
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
            assert gc.get_freeze_count() > 10_000  # the schema, its plans, the mappers
    finally:
        gc.set_threshold(*before)
