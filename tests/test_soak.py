"""The soak (bench/soak.py) as `make soak` runs it, shortened: two workers under mixed load keep every invariant and
answer everything with a code; with the cap lock switched off the same checker finds the books broken, so a soak
that passes has shown something. The full minute and its figures are `make soak`'s."""

from __future__ import annotations

import pytest

from bench import soak


@pytest.mark.parametrize("control", [False, True], ids=["cap lock on", "negative control: cap lock off"])
def test_a_short_soak_keeps_the_books_and_its_control_breaks_them(control: bool) -> None:
    result = soak.run(8.0, control=control)
    assert result["requests"] > 200, result["operations"]
    assert result["writes"] > 40, result["operations"]
    assert result["answer_problems"] == []
    assert result["tracebacks_in_log"] == 0
    assert set(result["statuses"]) <= {200, 503}
    if control:
        # writers no longer queue on the totals row: the edits' totals lose updates at once, and a cap is overshot
        # whenever two writers meet on a nearly full one (a few times a minute: `make soak CONTROL=1` shows them)
        assert result["invariant_problem_count"] > 0, "with the cap lock off the checker found nothing wrong"
    else:
        assert result["invariant_problems"] == []
    assert soak.verdict(result) == []
