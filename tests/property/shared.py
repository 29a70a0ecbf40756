"""Only this run's keys: list answers on a deployment that other clients share.

Against a URL, other clients (another pipeline, the other xdist workers) may
hold keys of users A and B at the same time. The model knows only this run's
keys, so a list answer is judged on them alone:
- a key the model does not know and whose name carries no marker of this run
  is another client's: it is left out of the answer (a key the model knows as
  the other user's stays in, so isolation is still checked);
- this run's keys on a page are predicted in the model's order (a page is a
  window on the whole list, other clients' keys inside); in another order,
  each once, they are production's unordered list (D13), a variant;
- `total` must be at least the model's count.
The prediction then takes the answer's `total`, and as items the model's own
views of the keys the page showed, so the rest of the check (each view, the
deviations) runs unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.property.calls import Answer
from tests.property.model import Expected, Model, Variant


def _is_page(answer: Answer) -> bool:
    body = answer.body
    return answer.status == 200 and isinstance(body, dict) and isinstance(body.get("items"), list)


def this_runs(answer: Answer, model: Model, marker: str) -> Answer:
    """`answer` without other clients' keys (a non-list answer as it is)."""
    body = answer.body
    if (
        answer.status != 200
        or not isinstance(body, dict)
        or not isinstance(body.get("items"), list)
    ):
        return answer
    kept = [item for item in body["items"] if ours(item, model, marker)]
    return replace(answer, body={**body, "items": kept})


def ours(item: Any, model: Model, marker: str) -> bool:
    if not isinstance(item, dict):
        return True
    return item.get("api_key_id") in model.keys or str(item.get("name", "")).startswith(marker)


def rebase(expected: Expected, answer: Answer, model: Model, who: str) -> Expected:
    """The prediction for a page of a shared list (see the module docstring)."""
    body = answer.body
    if (
        answer.status != 200
        or not isinstance(body, dict)
        or not isinstance(body.get("items"), list)
    ):
        return expected
    wanted = [key.api_key_id for key in model.alive(who)]
    shown = [i.get("api_key_id") for i in body["items"] if isinstance(i, dict)]
    own = [i for i in shown if i in wanted]
    total = body.get("total")
    if not isinstance(total, int) or total < len(wanted):
        return expected
    # The contract's page: this run's keys in the model's order. Shown in
    # another order (each once), production's unordered list (D13) may explain it.
    in_order = [i for i in wanted if i in set(own)]
    start = wanted.index(in_order[0]) if in_order else 0
    stretch = wanted[start : start + len(own)]
    rebased = _with_page(expected, total, [model.keys[i].view for i in stretch])
    if own == stretch or len(set(own)) != len(own):
        return rebased
    shown_order = _with_page(expected, total, [model.keys[i].view for i in own])
    extra = [Variant(frozenset({"D13"}), replace(shown_order, variants=()))]
    extra += [Variant(v.deviations | {"D13"}, v.expected) for v in shown_order.variants]
    return replace(rebased, variants=(*rebased.variants, *extra))


def _with_page(expected: Expected, total: int, views: list[dict]) -> Expected:
    def page(candidate: Expected) -> Expected:
        body = candidate.body
        if candidate.status != 200 or not isinstance(body, dict) or "items" not in body:
            return candidate
        return replace(candidate, body={**body, "total": total, "items": views})

    variants = tuple(Variant(v.deviations, page(v.expected)) for v in expected.variants)
    return replace(page(expected), variants=variants)
