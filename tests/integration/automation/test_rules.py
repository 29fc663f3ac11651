"""The rules engine (A1, S7) through the one ingest path on a real database: a rule fires once
per (rule, event), replays fire nothing (X1), its actions are in the batch's transaction (X2),
time triggers (abandoned checkout, no purchase) fire once, backfill counts first, dry runs
write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.automation import rules as engine
from hub.automation import triggers
from hub.core import ingest
from hub.core.records import CheckoutRecord, CustomerRecord, LineRecord
from hub.extensions import db
from hub.models import Customer, CustomerTag, Event, GroupMember, Rule, RuleRun, Tag
from tests.support.orders import order

NOW = datetime.now(UTC)


def make_rule(ws_id: int, trigger: str = "first_purchase", actions=None, **kw) -> Rule:
    data = {"name": kw.pop("name", "VIP"), "trigger": {"type": trigger, **kw.pop("t", {})},
            "conditions": kw.pop("conditions", []),
            "actions": actions or [{"type": "add_tag", "tag": "VIP"}]}  # fmt: skip
    rule = Rule(workspace_id=ws_id, **engine.validate(data, allow_private=True))
    db.session.add(rule)
    db.session.commit()
    return rule


def runs(rule_id: int) -> int:
    return db.session.scalar(select(func.count()).where(RuleRun.rule_id == rule_id)) or 0


def tagged(name: str) -> set[str | None]:
    stmt = (
        select(Customer.name)
        .join(CustomerTag, CustomerTag.customer_id == Customer.id)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(Tag.name == name)
    )
    return set(db.session.scalars(stmt))


def buy(ws_id: int, ext: str, buyer: str, *, paid: str = "100.00", at: datetime | None = None,
        version: int = 1, status: str = "completed"):  # fmt: skip
    rec = order(ext, identities=[("yz_open_id", buyer)], name=buyer, paid=paid,
                at=at or NOW - timedelta(days=1), version=version, status=status)  # fmt: skip
    return ingest.apply(db.session, ws_id, [rec])


def test_a1_first_purchase_fires_once(workspace):
    rule = make_rule(workspace.id, actions=[
        {"type": "add_tag", "tag": "VIP"}, {"type": "change_score", "delta": 5},
        {"type": "advance_stage", "stage": "customer"}, {"type": "add_to_group", "group": "Club"},
    ])  # fmt: skip
    buy(workspace.id, "O1", "ann")
    buy(workspace.id, "O2", "ann", at=NOW - timedelta(hours=2))  # a second purchase: not first
    assert runs(rule.id) == 1
    assert tagged("VIP") == {"ann"}
    ann = db.session.scalars(select(Customer).where(Customer.name == "ann")).one()
    assert (ann.activity_score, ann.stage) == (5, "customer")
    assert db.session.scalar(select(func.count()).select_from(GroupMember)) == 1
    run = db.session.scalars(select(RuleRun)).one()
    assert run.customer_id == ann.id
    assert run.event_key == f"first_purchase:{ann.id}"
    assert [a["type"] for a in run.actions] == ["add_tag", "change_score", "advance_stage",
                                                "add_to_group"]  # fmt: skip


def test_a1_replay_fires_nothing(workspace):
    rule = make_rule(workspace.id, "purchase", [{"type": "change_score", "delta": 3}])
    batch = [order(f"R{i}", identities=[("yz_open_id", f"b{i}")], name=f"b{i}") for i in range(5)]
    ingest.apply(db.session, workspace.id, batch)
    assert runs(rule.id) == 5
    scores = dict(db.session.execute(select(Customer.name, Customer.activity_score)).all())
    for _ in range(2):  # the same batch again, and a newer snapshot of it: no new events
        ingest.apply(db.session, workspace.id, batch)
    newer = [order(f"R{i}", identities=[("yz_open_id", f"b{i}")], name=f"b{i}", version=2)
             for i in range(5)]  # fmt: skip
    ingest.apply(db.session, workspace.id, newer)
    assert runs(rule.id) == 5
    assert dict(db.session.execute(select(Customer.name, Customer.activity_score)).all()) == scores
    # the engine itself, handed the same keys again, records nothing (the unique run key)
    keys = list(db.session.scalars(select(Event.dedupe_key)))
    assert engine.fire_for_batch(db.session, workspace.id, keys, NOW) == 0


def test_a1_a_batch_fires_many_rules_of_a_trigger_as_each_in_turn(workspace):
    """The rules of one trigger fire in one statement and their actions are applied together:
    the result is what each rule in turn gives (scores summed, the furthest stage, every tag
    and group), and a tag one rule removes and a later rule adds stays (rule order kept)."""
    ws = workspace.id
    big = [{"field": "amount", "op": "gte", "value": "100"}]
    small = [{"field": "amount", "op": "lt", "value": "100"}]
    a = make_rule(ws, "purchase", [{"type": "add_tag", "tag": "Big"},
                                   {"type": "change_score", "delta": 5}],
                  name="big", conditions=big)  # fmt: skip
    b = make_rule(ws, "purchase", [{"type": "change_score", "delta": 1},
                                   {"type": "advance_stage", "stage": "customer"}],
                  name="all")  # fmt: skip
    c = make_rule(ws, "purchase", [{"type": "add_to_group", "group": "Small"}], name="small",
                  conditions=small)  # fmt: skip
    d = make_rule(ws, "purchase", [{"type": "advance_stage", "stage": "repeat"}], name="again",
                  conditions=[{"field": "orders_count", "op": "gte", "value": 2}])  # fmt: skip
    ingest.apply(db.session, ws, [
        order("M1", identities=[("yz_open_id", "ann")], name="ann", paid="150.00"),
        order("M2", identities=[("yz_open_id", "ann")], name="ann", paid="20.00"),
        order("M3", identities=[("yz_open_id", "bob")], name="bob", paid="30.00"),
    ])  # fmt: skip
    assert [runs(r.id) for r in (a, b, c, d)] == [1, 3, 2, 2]
    people = {x.name: x for x in db.session.scalars(select(Customer))}
    assert (people["ann"].activity_score, people["ann"].stage) == (5 + 2, "repeat")
    assert (people["bob"].activity_score, people["bob"].stage) == (1, "customer")
    assert tagged("Big") == {"ann"}
    members = select(Customer.name).join(GroupMember, GroupMember.customer_id == Customer.id)
    assert set(db.session.scalars(members)) == {"ann", "bob"}

    make_rule(ws, "purchase", [{"type": "remove_tag", "tag": "Big"}], name="unbig")
    make_rule(ws, "purchase", [{"type": "add_tag", "tag": "big"}], name="rebig")  # same tag
    buy(ws, "M4", "ann", paid="10.00")
    assert tagged("Big") == {"ann"}  # removed by the earlier rule, added by the later one


def test_a1_stage_advances_forward_only(workspace):
    make_rule(workspace.id, "purchase", [{"type": "advance_stage", "stage": "lead"}])
    buy(workspace.id, "S1", "cat")
    cat = db.session.scalars(select(Customer).where(Customer.name == "cat")).one()
    cat.stage = "loyal"
    db.session.commit()
    buy(workspace.id, "S2", "cat")
    db.session.refresh(cat)
    assert cat.stage == "loyal"


def test_a1_actions_in_the_batch_transaction(workspace, monkeypatch):
    """A batch that fails after the rules fired leaves no run, no tag, no score (X2)."""
    rule = make_rule(workspace.id, "purchase", [{"type": "add_tag", "tag": "VIP"},
                                                {"type": "change_score", "delta": 7}])  # fmt: skip
    from hub.core.store import orders as store_orders

    real = store_orders.fire_for_batch

    def fire_then_fail(*args, **kwargs):
        assert real(*args, **kwargs) == 1  # the rule fired in the batch's transaction ...
        raise RuntimeError("the batch fails after the rules ran")  # ... which then fails

    monkeypatch.setattr(store_orders, "fire_for_batch", fire_then_fail)
    with pytest.raises(RuntimeError):
        buy(workspace.id, "T1", "dan")
    db.session.rollback()
    assert runs(rule.id) == 0
    assert tagged("VIP") == set()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    monkeypatch.setattr(store_orders, "fire_for_batch", real)
    buy(workspace.id, "T1", "dan")  # the retry fires it, once
    assert runs(rule.id) == 1
    assert tagged("VIP") == {"dan"}


def test_a1_rule_created_today_does_not_fire_on_yesterdays_events(workspace):
    buy(workspace.id, "Y1", "eve")
    rule = make_rule(workspace.id, "purchase")
    buy(workspace.id, "Y1", "eve", version=2)  # a replay of yesterday's order: nothing new
    assert runs(rule.id) == 0
    buy(workspace.id, "Y2", "eve")
    assert runs(rule.id) == 1


def test_a1_backfill_count_first(workspace):
    for i in range(3):
        buy(workspace.id, f"B{i}", f"fay{i}", paid=str(100 * (i + 1)))
    rule = make_rule(workspace.id, "purchase")
    assert engine.backfill(db.session, rule, NOW, confirm=False) == 3
    db.session.rollback()
    assert runs(rule.id) == 0 and tagged("VIP") == set()
    assert engine.backfill(db.session, rule, NOW, confirm=True) == 3
    db.session.commit()
    assert runs(rule.id) == 3 and tagged("VIP") == {"fay0", "fay1", "fay2"}
    assert engine.backfill(db.session, rule, NOW, confirm=False) == 0
    assert db.session.get(Rule, rule.id).backfilled_at is not None


def test_a1_dry_run(workspace):
    for i in range(4):
        buy(workspace.id, f"D{i}", f"gus{i}", at=NOW - timedelta(days=4 - i))
    rule = make_rule(workspace.id, "purchase")
    buy(workspace.id, "D9", "gus9", at=NOW - timedelta(hours=1))
    result = engine.dry_run(db.session, rule, NOW, last=3)
    db.session.rollback()
    assert [r["event"]["amount"] for r in result] == ["100.00"] * 3
    assert [r["would_fire"] for r in result] == [True, True, True]
    assert [r["fired"] for r in result] == [True, False, False]  # D9 fired; D3, D2 not
    assert runs(rule.id) == 1 and tagged("VIP") == {"gus9"}


def test_a1_no_purchase_fires_once_per_lapse(workspace):
    rule = make_rule(workspace.id, "no_purchase", t={"days": 30},
                     actions=[{"type": "add_tag", "tag": "Lapsed"}])  # fmt: skip
    buy(workspace.id, "N1", "hal", at=NOW - timedelta(days=5))
    buy(workspace.id, "N2", "ivy", at=NOW - timedelta(days=20))
    assert triggers.schedule_tick(db.session, NOW) == 0
    later = NOW + timedelta(days=26)  # hal's last purchase 31 days old, ivy's 46: both lapsed
    assert triggers.schedule_tick(db.session, later) == 2
    assert triggers.schedule_tick(db.session, later + timedelta(days=1)) == 0  # once per lapse
    db.session.commit()
    assert tagged("Lapsed") == {"hal", "ivy"}
    buy(workspace.id, "N3", "hal", at=later)  # a new purchase: a new lapse may come
    assert triggers.schedule_tick(db.session, later + timedelta(days=10)) == 0
    assert triggers.schedule_tick(db.session, later + timedelta(days=31)) == 1
    assert runs(rule.id) == 3
    keys = set(db.session.scalars(select(RuleRun.event_key)))
    assert all(k.startswith(f"no_purchase:{rule.id}:") for k in keys)


def test_a1_dry_run_of_no_purchase_lists_the_lapses_the_scheduler_would_fire(workspace):
    """Not the last purchases: the customers whose lapse is due, flagged by the scheduler's own
    source, so the dry run and the next tick agree."""
    rule = make_rule(workspace.id, "no_purchase", t={"days": 30},
                     actions=[{"type": "add_tag", "tag": "Lapsed"}])  # fmt: skip
    buy(workspace.id, "R1", "hal", at=NOW - timedelta(days=5))
    buy(workspace.id, "R2", "ivy", at=NOW - timedelta(days=20))
    buy(workspace.id, "R3", "jay", at=NOW - timedelta(days=90))  # lapsed before the rule
    buy(workspace.id, "R4", "kit", at=NOW - timedelta(days=40))
    buy(workspace.id, "R5", "kit", at=NOW - timedelta(days=2))  # bought again: not lapsed
    ids = dict(db.session.execute(select(Customer.name, Customer.id)).all())
    later = NOW + timedelta(days=26)  # hal's last purchase 31 days old, ivy's 46: both lapsed

    def dry() -> list[tuple]:
        got = engine.dry_run(db.session, rule, later, last=10)
        db.session.rollback()
        return [(r["customer_id"], r["event"]["type"], r["would_fire"], r["fired"],
                 r["backfill_only"]) for r in got]  # fmt: skip

    assert dry() == [(ids["hal"], "purchase", True, False, False),
                     (ids["ivy"], "purchase", True, False, False),
                     (ids["jay"], "purchase", False, False, True)]  # fmt: skip
    first = engine.dry_run(db.session, rule, later, last=1)
    db.session.rollback()
    lapse = datetime.fromisoformat(first[0]["event"]["occurred_at"]) + timedelta(days=30)
    assert first[0]["due_at"] == lapse.isoformat() and runs(rule.id) == 0
    assert triggers.schedule_tick(db.session, later) == 2  # what the dry run said would fire
    db.session.commit()
    fired = set(db.session.scalars(select(RuleRun.customer_id).where(RuleRun.rule_id == rule.id)))
    assert fired == {ids["hal"], ids["ivy"]}
    assert [(r[0], r[3]) for r in dry()] == [(ids["hal"], True), (ids["ivy"], True),
                                             (ids["jay"], False)]  # fmt: skip


def test_a1_dry_run_of_checkout_abandoned_lists_the_checkouts_that_would_fire(workspace):
    rule = make_rule(workspace.id, "checkout_abandoned", t={"after_hours": 24},
                     actions=[{"type": "add_tag", "tag": "Cart"}])  # fmt: skip
    at = NOW - timedelta(hours=3)
    ingest.apply(db.session, workspace.id, [checkout("C1", "kim@tea.cn", at=at),
                                            checkout("C2", "lee@tea.cn", at=at)])  # fmt: skip
    rec = order("O-C2", identities=[("email", "lee@tea.cn")], name="lee", source="shopify")
    rec.properties = {"checkout_token": "tok-C2"}
    ingest.apply(db.session, workspace.id, [rec])  # lee's order takes C2 over: cancelled
    kim = db.session.scalar(select(Customer.id).where(Customer.name == "kim"))
    assert engine.dry_run(db.session, rule, NOW, last=5) == []  # not 24 h yet
    due = at + timedelta(hours=25)
    got = engine.dry_run(db.session, rule, due, last=5)
    db.session.rollback()
    assert [(r["customer_id"], r["event"]["type"], r["would_fire"], r["fired"]) for r in got] == [
        (kim, "checkout_abandoned", True, False)
    ]
    assert triggers.schedule_tick(db.session, due) == 1


def test_a1_no_purchase_lapsed_before_the_rule_is_the_backfills(workspace):
    buy(workspace.id, "L1", "jay", at=NOW - timedelta(days=90))
    rule = make_rule(workspace.id, "no_purchase", t={"days": 30})
    assert triggers.schedule_tick(db.session, NOW) == 0
    assert engine.backfill(db.session, rule, NOW, confirm=False) == 1


def checkout(ext: str, email: str, *, at: datetime) -> CheckoutRecord:
    buyer = CustomerRecord(identities=[("email", email)], email=email, name=email.split("@")[0])
    line = LineRecord(external_id="L1", product_external_id="P1", sku_id="SKU-1",
                      name="Green tea", qty=2, unit_price=Decimal("12.50"))  # fmt: skip
    return CheckoutRecord(source="shopify", external_id=ext, created_at=at - timedelta(minutes=10),
                          updated_at=at, completed_at=None, token=f"tok-{ext}", buyer=buyer,
                          lines=[line], amount_total=Decimal("25.00"))  # fmt: skip


def test_a1_abandoned_checkout_cancelled_by_order(workspace):
    rule = make_rule(workspace.id, "checkout_abandoned", t={"after_hours": 24},
                     actions=[{"type": "add_tag", "tag": "Cart"}])  # fmt: skip
    at = NOW - timedelta(hours=3)
    ingest.apply(db.session, workspace.id, [checkout("C1", "kim@tea.cn", at=at),
                                            checkout("C2", "lee@tea.cn", at=at)])  # fmt: skip
    assert db.session.scalar(select(func.count()).where(Event.type == "checkout_abandoned")) == 2
    assert triggers.schedule_tick(db.session, NOW) == 0  # not yet 24 h after the abandonment
    # lee's order for checkout C2 arrives first: the deal becomes the order's
    rec = order("O-C2", identities=[("email", "lee@tea.cn")], name="lee", source="shopify")
    rec.properties = {"checkout_token": "tok-C2"}
    ingest.apply(db.session, workspace.id, [rec])
    due = at + timedelta(hours=25)
    assert triggers.schedule_tick(db.session, due) == 1  # kim only
    assert triggers.schedule_tick(db.session, due + timedelta(hours=5)) == 0  # once
    db.session.commit()
    assert tagged("Cart") == {"kim"}
    run = db.session.scalars(select(RuleRun).where(RuleRun.rule_id == rule.id)).one()
    assert run.event_key == "shopify:checkout:C1:abandoned"


def test_a1_conditions_over_event_lines_and_customer(workspace):
    """first purchase ≥ 200 with a line of SKU S1 by a customer tagged Tea → VIP."""
    conditions = {"all": [
        {"field": "amount", "op": "gte", "value": "200"},
        {"field": "line.sku", "op": "eq", "value": "S1"},
        {"any": [{"field": "tags", "op": "contains", "value": "tea"},
                 {"field": "source", "op": "eq", "value": "nowhere"}]},
    ]}  # fmt: skip
    rule = make_rule(workspace.id, conditions=conditions)
    tea = Tag(workspace_id=workspace.id, name="Tea")
    db.session.add(tea)
    db.session.commit()
    # the customers exist (tagged Tea) before their first purchase arrives
    for name in ("max", "ned", "oli"):
        buy(workspace.id, f"pre-{name}", name, paid="1.00", status="pending")
    ids = dict(db.session.execute(select(Customer.name, Customer.id)).all())
    db.session.add_all([CustomerTag(customer_id=ids[n], tag_id=tea.id) for n in ("max", "ned")])
    db.session.commit()
    buy(workspace.id, "big-max", "max", paid="250.00")  # ≥ 200, a line S1, tagged: fires
    buy(workspace.id, "big-ned", "ned", paid="150.00")  # under 200
    buy(workspace.id, "big-oli", "oli", paid="300.00")  # not tagged Tea
    assert tagged("VIP") == {"max"}
    assert runs(rule.id) == 1


def test_a1_invalid_rule_names_the_path(workspace):
    from hub.core.errors import Refused

    bad = [
        ({"trigger": {"type": "sometimes"}}, "trigger.type"),
        ({"trigger": {"type": "no_purchase"}}, "trigger.days"),
        ({"actions": [{"type": "add_tag", "tag": "x"}, {"type": "advance_stage",
                                                        "stage": "boss"}]}, "actions[1].stage"),
        ({"actions": [{"type": "change_score", "delta": "5"}]}, "actions[0].delta"),
        ({"conditions": [{"field": "amount", "op": "gte", "value": "1"},
                         {"field": "amount", "op": "near", "value": 1}]}, "conditions[1].op"),
    ]  # fmt: skip
    for change, path in bad:
        data = {"name": "x", "trigger": {"type": "purchase"},
                "actions": [{"type": "add_tag", "tag": "VIP"}], **change}  # fmt: skip
        with pytest.raises(Refused) as info:
            engine.validate(data, allow_private=True)
        assert info.value.field == path, (change, info.value)


def test_a1_time_rules_run_from_the_workers_scheduler(workspace):
    from hub.jobs import schedule

    rule = make_rule(workspace.id, "no_purchase", t={"days": 7})
    buy(workspace.id, "W1", "pat", at=NOW - timedelta(days=1))
    schedule.tick(NOW + timedelta(days=8))  # the maintenance loop's fan-out (committed)
    db.session.rollback()
    assert runs(rule.id) == 1 and tagged("VIP") == {"pat"}


def test_a1_without_enabled_rules_a_batch_costs_one_lookup(workspace):
    """X2's cost side: no enabled rule in the workspace → one indexed SELECT per batch."""
    from sqlalchemy import event as sa_event

    rule = make_rule(workspace.id, "purchase")
    rule.enabled = False
    db.session.commit()
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine_ = db.session.get_bind()
    sa_event.listen(engine_, "before_cursor_execute", seen)
    try:
        batch = [order(f"Q{i}", identities=[("yz_open_id", f"q{i}")]) for i in range(30)]
        ingest.apply(db.session, workspace.id, batch)
    finally:
        sa_event.remove(engine_, "before_cursor_execute", seen)
    mine = [s for s in statements if "rule" in s.lower()]
    assert len(mine) == 1 and "FROM rules" in mine[0], mine
    assert runs(rule.id) == 0
