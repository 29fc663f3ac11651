"""A rule's actions (A1): validated from input, and applied set-based to the customers of a
rule's new runs, in the caller's transaction: tags, static groups, stage (forward only, in the
order of ``hub.core.plan.settings.STAGES``), activity score, and webhooks (to the outbox)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import case, delete, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.automation.sqlsets import among, int_pairs
from hub.core.errors import N_, Refused
from hub.core.plan.settings import STAGES
from hub.models import Customer, CustomerTag, Event, Group, GroupMember, Rule, Tag

TYPES = ("add_tag", "remove_tag", "add_to_group", "remove_from_group", "advance_stage",
         "change_score", "webhook")  # fmt: skip
_NAMED = {"add_tag": "tag", "remove_tag": "tag", "add_to_group": "group",
          "remove_from_group": "group"}  # fmt: skip
MASK = "********"  # a webhook secret as shown; sent back unchanged, the stored one is kept


def _refuse(field: str, message: str, **params: Any) -> Refused:
    return Refused(message, field=field, path=field, **params)


def validate(data: Any, where: str, allow_private: bool) -> dict[str, Any]:
    """One action, normalised; errors name ``where`` and the field."""
    if not isinstance(data, dict) or data.get("type") not in TYPES:
        raise _refuse(f"{where}.type", N_("%(path)s must be one of %(allowed)s."),
                      allowed=", ".join(TYPES))  # fmt: skip
    type_ = data["type"]
    if type_ in _NAMED:
        key = _NAMED[type_]
        value = data.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise _refuse(f"{where}.{key}", N_("%(path)s is required (1 to 100 characters)."))
        return {"type": type_, key: value.strip()}
    if type_ == "advance_stage":
        if data.get("stage") not in STAGES:
            raise _refuse(f"{where}.stage", N_("%(path)s must be one of %(allowed)s."),
                          allowed=", ".join(STAGES))  # fmt: skip
        return {"type": type_, "stage": data["stage"]}
    if type_ == "change_score":
        delta = data.get("delta")
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise _refuse(f"{where}.delta", N_("%(path)s must be a whole number, not 0."))
        return {"type": type_, "delta": delta}
    url, secret = data.get("url"), data.get("secret")
    if not isinstance(url, str) or not url.strip():
        raise _refuse(f"{where}.url", N_("%(path)s is required."))
    if not isinstance(secret, str) or len(secret) < 16:
        raise _refuse(f"{where}.secret", N_("%(path)s must be at least 16 characters."))
    from hub.automation import outbox

    try:
        outbox.check_target(url.strip(), allow_private=allow_private)
    except Refused as exc:
        exc.field = f"{where}.url"
        raise
    return {"type": type_, "url": url.strip(), "secret": secret}


def taken(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a run records of the actions it took (a webhook's secret left out)."""
    return [{k: v for k, v in a.items() if k != "secret"} for a in actions]


def public(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions as the API shows them: a webhook's secret masked."""
    return [{**a, "secret": MASK} if "secret" in a else a for a in actions]


def apply(session: Session, rule: Rule, runs: list[Any], now: datetime) -> None:
    """Apply ``rule``'s actions to its new ``runs`` (id, event_id, customer_id)."""
    counts = _customers(runs)
    ids = sorted(counts)
    ws = rule.workspace_id
    tags, members = CustomerTag.__table__, GroupMember.__table__
    for action in rule.actions:
        type_ = action["type"]
        if type_ == "add_tag":
            tag = _tag_id(session, ws, action["tag"])
            _add_pairs(session, tags, "tag_id", [(cid, tag) for cid in ids])
        elif type_ == "remove_tag":
            tag = _tag_id(session, ws, action["tag"], create=False)
            _remove_members(session, tags, "tag_id", tag, ids)
        elif type_ == "add_to_group":
            group = _group_id(session, ws, action["group"], now)
            _add_pairs(session, members, "group_id", [(cid, group) for cid in ids])
        elif type_ == "remove_from_group":
            group = _group_id(session, ws, action["group"], now, create=False)
            _remove_members(session, members, "group_id", group, ids)
        elif type_ == "advance_stage":
            _advance(session, action["stage"], ids, now)
        elif type_ == "change_score":
            _score(session, action["delta"], counts, now)
    hooks = [a for a in rule.actions if a["type"] == "webhook"]
    if hooks:
        _webhooks(session, ws, [(rule, runs, hooks)])


def apply_many(session: Session, fired: Sequence[tuple[Rule, list[Any]]], now: datetime) -> None:
    """Apply the actions of several rules (of one workspace) to their new runs, as ``apply``
    of each rule in turn would, in a few statements for them all: a tag or group once for
    every customer any rule adds to it, each customer's stage advanced once to the furthest
    stage, the scores' deltas summed per customer, the webhook payloads read once. Those
    actions commute, so the result is the same; when one tag or group is both added and
    removed by the rules, order matters and each rule is applied in turn."""
    fired = [(rule, runs) for rule, runs in fired if runs]
    if not fired:
        return
    adds: dict[tuple[str, str], set[int]] = {}
    removes: dict[tuple[str, str], set[int]] = {}
    furthest: dict[int, int] = {}  # customer id → the rank of the furthest stage
    scores: Counter[int] = Counter()
    hooks: list[tuple[Rule, list[Any], list[dict]]] = []
    for rule, runs in fired:
        counts = _customers(runs)
        for action in rule.actions:
            type_ = action["type"]
            if type_ in _NAMED:
                kind = "tag" if "tag" in type_ else "group"
                into = adds if type_.startswith("add") else removes
                into.setdefault((kind, action[kind]), set()).update(counts)
            elif type_ == "advance_stage":
                rank = STAGES.index(action["stage"]) + 1
                for cid in counts:
                    furthest[cid] = max(furthest.get(cid, 0), rank)
            elif type_ == "change_score":
                for cid, n in counts.items():
                    scores[cid] += action["delta"] * n
        webhooks = [a for a in rule.actions if a["type"] == "webhook"]
        if webhooks:
            hooks.append((rule, runs, webhooks))
    if _folded(adds) & _folded(removes):
        for rule, runs in fired:
            apply(session, rule, runs, now)
        return
    ws = fired[0][0].workspace_id
    owners = _owners(session, ws, {*adds, *removes}, now, create=set(adds))
    for kind, table, key in (("tag", CustomerTag.__table__, "tag_id"),
                             ("group", GroupMember.__table__, "group_id")):  # fmt: skip
        added = [(cid, owners[named]) for named, cids in adds.items() if named[0] == kind
                 for cid in cids]  # fmt: skip
        if added:
            _add_pairs(session, table, key, added)
        for named, cids in removes.items():
            if named[0] == kind:
                _remove_members(session, table, key, owners.get(named), sorted(cids))
    # each customer's score and stage in one UPDATE, customers grouped by what they get
    changes: dict[tuple[int, int], list[int]] = {}
    for cid in furthest.keys() | scores.keys():
        changes.setdefault((scores.get(cid, 0), furthest.get(cid, 0)), []).append(cid)
    for (delta, rank), cids in changes.items():
        _change(session, delta, rank, sorted(cids), now)
    if hooks:
        _webhooks(session, ws, hooks)


def _customers(runs: list[Any]) -> Counter[int]:
    """How many of ``runs`` each customer has (a run's customer id is its last column)."""
    counts = Counter(map(itemgetter(-1), runs))
    counts.pop(None, None)
    return counts


def _folded(named: dict[tuple[str, str], set[int]]) -> set[tuple[str, str]]:
    """Tag names compare without case (as ``_tag_id`` finds them), group names exactly."""
    return {(kind, name.lower() if kind == "tag" else name) for kind, name in named}


def _owners(
    session: Session, ws: int, named: set[tuple[str, str]], now: datetime, create: set
) -> dict[tuple[str, str], int]:
    """The ids of these ("tag" | "group", name)s, read in one statement per kind, as
    ``_tag_id`` / ``_group_id`` find them; those in ``create`` made when missing."""
    out: dict[tuple[str, str], int] = {}
    t, g = Tag.__table__, Group.__table__
    tags = {name for kind, name in named if kind == "tag"}
    if tags:
        folded = {name.lower() for name in tags}
        found: dict[str, int] = {}
        rows = select(t.c.id, t.c.name).where(t.c.workspace_id == ws,
                                             func.lower(t.c.name).in_(sorted(folded)))  # fmt: skip
        for id_, name in session.execute(rows.order_by(t.c.id)).all():
            found.setdefault(name.lower(), id_)
        out.update({("tag", n): found[n.lower()] for n in tags if n.lower() in found})
    groups = {name for kind, name in named if kind == "group"}
    if groups:
        rows = select(g.c.id, g.c.name).where(g.c.workspace_id == ws, g.c.name.in_(sorted(groups)))
        for id_, name in session.execute(rows.order_by(g.c.id)).all():
            out.setdefault(("group", name), id_)
    for kind, name in sorted(create - set(out)):
        out[(kind, name)] = (
            _tag_id(session, ws, name) if kind == "tag" else _group_id(session, ws, name, now)
        )  # type: ignore[assignment]
    return out


def _add_pairs(session: Session, table: Any, key: str, pairs: list[tuple[int, int]]) -> None:
    """INSERT … SELECT the (customer, owner) pairs not yet there (the primary key's conflict
    skips the others), in one statement for every tag (or group) of a batch; customers that
    no longer exist are left out."""
    c = Customer.__table__
    j = int_pairs(session, sorted(set(pairs)))
    # a WHERE: SQLite would read "ON CONFLICT" as the join's ON otherwise
    rows = select(c.c.id, j.c.b).select_from(j.join(c, c.c.id == j.c.a)).where(true())
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).from_select(["customer_id", key], rows)
    session.execute(stmt.on_conflict_do_nothing())


def _tag_id(session: Session, ws: int, name: str, *, create: bool = True) -> int | None:
    t = Tag.__table__
    found = session.scalar(
        select(t.c.id).where(t.c.workspace_id == ws, func.lower(t.c.name) == name.lower())
    )
    if found is None and create:
        found = session.execute(insert(t).values(workspace_id=ws, name=name).returning(t.c.id))
        return found.scalar_one()
    return found


def _group_id(
    session: Session, ws: int, name: str, now: datetime, *, create: bool = True
) -> int | None:
    g = Group.__table__
    found = session.scalar(select(g.c.id).where(g.c.workspace_id == ws, g.c.name == name))
    if found is None and create:
        row = session.execute(
            insert(g).values(workspace_id=ws, name=name, created_at=now).returning(g.c.id)
        )
        return row.scalar_one()
    return found


def _remove_members(
    session: Session, table: Any, key: str, owner: int | None, ids: list[int]
) -> None:
    if owner is None:
        return
    mine = among(session, table.c.customer_id, ids)
    session.execute(delete(table).where(table.c[key] == owner, mine))


def _rank(column: Any) -> Any:
    return case({stage: i for i, stage in enumerate(STAGES, 1)}, value=column, else_=0)


def _advance(session: Session, stage: str, ids: list[int], now: datetime) -> None:
    """Move the customers forward to ``stage``, never back."""
    c = Customer.__table__
    rank = STAGES.index(stage) + 1
    session.execute(
        update(c)
        .where(among(session, c.c.id, ids), _rank(c.c.stage) < rank)
        .values(stage=stage, updated_at=now)
    )


def _change(session: Session, delta: int, rank: int, ids: list[int], now: datetime) -> None:
    """Add ``delta`` to the customers' scores and move them forward to the stage of ``rank``
    (0: none), never back, in one statement."""
    c = Customer.__table__
    if not rank:
        if delta:
            _add_score(session, delta, ids, now)
        return
    if not delta:
        _advance(session, STAGES[rank - 1], ids, now)
        return
    stage = case((_rank(c.c.stage) < rank, STAGES[rank - 1]), else_=c.c.stage)
    session.execute(
        update(c)
        .where(among(session, c.c.id, ids))
        .values(activity_score=c.c.activity_score + delta, stage=stage, updated_at=now)
    )


def _score(session: Session, delta: int, counts: Counter[int], now: datetime) -> None:
    """Add ``delta`` once per run: customers grouped by how many runs they have."""
    by_times: dict[int, list[int]] = {}
    for cid, n in counts.items():
        by_times.setdefault(n, []).append(cid)
    for n, cids in by_times.items():
        _add_score(session, delta * n, cids, now)


def _add_score(session: Session, delta: int, cids: list[int], now: datetime) -> None:
    c = Customer.__table__
    session.execute(
        update(c)
        .where(among(session, c.c.id, sorted(cids)))
        .values(activity_score=c.c.activity_score + delta, updated_at=now)
    )


def _webhooks(session: Session, ws: int, hooks: list[tuple[Rule, list[Any], list[dict]]]) -> None:
    """One outbox row per run and webhook action of each (rule, runs, webhook actions), with
    the payload of the contract."""
    from hub.automation import outbox

    payloads = payloads_of(session, [(rule, runs) for rule, runs, _actions in hooks])
    rows = [
        {"url": hook["url"], "secret": hook["secret"], "event_type": rule.trigger,
         "payload": payloads[run.id], "rule_id": rule.id, "rule_run_id": run.id}
        for rule, runs, webhooks in hooks
        for run in runs
        for hook in webhooks
    ]  # fmt: skip
    outbox.enqueue_many(session, ws, rows)


def event_part(row: Any) -> dict[str, Any]:
    """An event as webhook payloads and dry runs show it (``row`` has its id, type,
    occurred_at, amount, source and order_id)."""
    return {
        "id": row.id,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
        "amount": None if row.amount is None else str(row.amount),
        "source": row.source,
        "order_id": row.order_id,
    }


def payloads_of(
    session: Session, fired: Sequence[tuple[Rule, list[Any]]]
) -> dict[int, dict[str, Any]]:
    """The webhook payload of each run of these rules (by run id), read in a few set-based
    statements: the columns the payload shows, each event's and customer's part built once."""
    e, c = Event.__table__, Customer.__table__
    every = [run for _rule, runs in fired for run in runs]
    event_ids = sorted({r.event_id for r in every if r.event_id is not None})
    cids = sorted({r.customer_id for r in every if r.customer_id is not None})
    shown = select(e.c.id, e.c.type, e.c.occurred_at, e.c.amount, e.c.source, e.c.order_id)
    events = {
        row.id: event_part(row)
        for row in session.execute(shown.where(among(session, e.c.id, event_ids))).all()
    }
    t, ct = Tag.__table__, CustomerTag.__table__
    tags: dict[int, list[str]] = {}
    pairs = select(ct.c.customer_id, t.c.name).join(t, t.c.id == ct.c.tag_id)
    for cid, name in session.execute(pairs.where(among(session, ct.c.customer_id, cids))).all():
        tags.setdefault(cid, []).append(name)
    stmt = select(c.c.id, c.c.name, c.c.stage, c.c.activity_score)
    customers = {
        id_: {"id": id_, "name": name, "stage": stage, "score": score,
              "tags": sorted(tags.get(id_, []))}
        for id_, name, stage, score in session.execute(
            stmt.where(among(session, c.c.id, cids))).all()
    }  # fmt: skip
    return {
        run.id: {"type": rule.trigger, "rule": {"id": rule.id, "name": rule.name},
                 "event": events.get(run.event_id), "customer": customers.get(run.customer_id)}
        for rule, runs in fired
        for run in runs
    }  # fmt: skip
