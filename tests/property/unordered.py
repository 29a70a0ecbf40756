"""D13 in the property suite: production's list has no order.

The model predicts the contract's order (`created_at`, then `api_key_id`).
Production returns the table's physical order, which no client can predict
(a new key may take a deleted key's place after a vacuum). So where a list
page shows the user's own keys, each once and as many as the contract's
page, but not that page, the prediction gains a D13 variant: the same answer
with the items the page showed, in its order. The judge then treats it like
any other deviation (observed when listed, else a failure tagged `[D13]`).
A key shown twice, another user's key, or a missing one gets no variant: a
new failure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.property.calls import Answer
from tests.property.model import Expected, Model, Variant
from tests.support import recognisers

D13 = frozenset({"D13"})


def _ids(items: Any) -> list[str]:
    return (
        [i.get("api_key_id") for i in items if isinstance(i, dict)]
        if isinstance(items, list)
        else []
    )


def _listed(expected: Expected) -> bool:
    body = expected.body
    return expected.status == 200 and isinstance(body, dict) and isinstance(body.get("items"), list)


def with_unordered(expected: Expected, answer: Answer, model: Model, who: str) -> Expected:
    """`expected` with a D13 variant for each of its list answers (the
    contract's, or a deviation's such as D3's) of which `answer`'s page is a
    window on another order of `who`'s keys (see the module docstring)."""
    if answer.status != 200 or not isinstance(answer.body, dict):
        return expected
    shown = _ids(answer.body.get("items"))
    alive = [key.api_key_id for key in model.alive(who)]
    if any(i not in model.keys for i in shown):
        return expected
    views = [model.keys[i].view for i in shown]
    candidates = [(frozenset(), expected), *((v.deviations, v.expected) for v in expected.variants)]
    extra = [
        Variant(codes | D13, replace(c, body={**c.body, "items": views}, variants=()))
        for codes, c in candidates
        if _listed(c) and recognisers.d13_page(shown, _ids(c.body["items"]), alive)
    ]
    return replace(expected, variants=(*expected.variants, *extra)) if extra else expected


def walk_shows_d13(seen: list[str], wanted: list[str]) -> bool:
    """A walk of a user's pages holds the model's keys, each once, in another order."""
    return recognisers.d13(seen, wanted)
