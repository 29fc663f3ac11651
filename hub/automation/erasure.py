"""Erasing a person from the outbound webhook outbox (privacy requests, the admin's deletion of
a customer): the bodies of the deliveries about the customers lose the personal keys (the
customer's name, e-mail, phone…) and any text carrying one of the person's values; a pending
delivery is then sent without them, a logged one keeps only anonymous facts (ids, event type,
amounts, times, status codes). The receivers' answers logged for those deliveries may echo the
body: they are dropped. In the caller's transaction; set-based by pages of rows."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.automation.outbox import body_text
from hub.models import OutboxAttempt, OutboxDelivery

# Keys of a payload's customer object that name or reach the person.
CUSTOMER_KEYS = frozenset(
    {"name", "email", "mobile", "phone", "properties", "identities", "address", "note"}
)
PAGE = 500


def erase_outbox(
    session: Session,
    workspace_id: int,
    customer_ids: Collection[int],
    values: Collection[str] = (),
) -> int:
    """Erase the customers (the hub's ids) and ``values`` (their e-mails, phones, shop ids,
    as they may appear in a body) from the workspace's outbox; how many deliveries changed."""
    ids = {int(i) for i in customer_ids}
    needles = sorted({v.strip().lower() for v in values if v and len(v.strip()) >= 5})
    if not ids and not needles:
        return 0
    o = OutboxDelivery.__table__.c
    changed: list[dict[str, Any]] = []
    last = 0
    while True:  # by pages of ids: the bodies are read a page at a time
        page = session.execute(
            select(o.id, o.body)
            .where(o.workspace_id == workspace_id, o.id > last)
            .order_by(o.id)
            .limit(PAGE)
        ).all()
        if not page:
            break
        last = page[-1][0]
        for row_id, body in page:
            erased = scrub_body(body or "", ids, needles)
            if erased is not None:
                changed.append({"id": row_id, "body": erased})
    if changed:
        session.execute(update(OutboxDelivery), changed)
        hit = [c["id"] for c in changed]
        a = OutboxAttempt.__table__.c
        for start in range(0, len(hit), PAGE):
            session.execute(
                update(OutboxAttempt)
                .where(a.delivery_id.in_(hit[start : start + PAGE]))
                .values(response_excerpt=None)
            )
    return len(changed)


def scrub_body(body: str, ids: set[int], needles: list[str]) -> str | None:
    """The body without the person (None: it does not carry them)."""
    lowered = body.lower()
    carries = any(n in lowered for n in needles)
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return "" if carries else None
    customer = payload.get("customer") if isinstance(payload, dict) else None
    about = isinstance(customer, dict) and customer.get("id") in ids
    if not (about or carries):
        return None
    if about:
        assert isinstance(customer, dict)
        for key in CUSTOMER_KEYS & customer.keys():
            del customer[key]
    if carries:
        payload = _without(payload, needles)
    return body_text(payload)


def _without(value: Any, needles: list[str]) -> Any:
    """``value`` with every text that carries a needle turned to null."""
    if isinstance(value, dict):
        return {k: _without(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, needles) for v in value]
    if isinstance(value, str) and any(n in value.lower() for n in needles):
        return None
    return value
