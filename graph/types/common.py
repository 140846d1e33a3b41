from __future__ import annotations

import strawberry


def given(input_object: object) -> dict[str, object]:
    """The fields a client actually sent: patch semantics (SPEC 5b)."""
    return {k: v for k, v in vars(input_object).items() if v is not strawberry.UNSET}
