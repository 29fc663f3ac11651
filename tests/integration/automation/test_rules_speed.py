"""The cost of the rules inside ingest (issue 25: at most 30% of its throughput): a rule's
conditions over a customer (orders count, total spent, first order, did event, identity, source)
are correlated subqueries that must read the customer's few rows by the customer's index,
never every order / event / identity of the workspace for each event of the batch (the
quadratic plan SQLite picked for an index led by the workspace: 200,000 orders took minutes)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select

from hub.automation import rules as engine
from hub.automation.firing import batch_select, insert_batch_runs
from hub.extensions import db
from hub.models import Event, Rule, RuleRun
from tests.integration.automation.builders import NOW, customer, event, identity, order

CONDITIONS = {
    "all": [
        {"field": "orders_count", "op": "gte", "value": 2},
        {"field": "total_spent", "op": "gte", "value": "150"},
        {"field": "created_at", "op": "lt", "value": "2026-12-01"},
        {"field": "did_event", "op": "gte",
         "value": {"type": "page_view", "count": 1, "within_days": 30}},
        {"field": "identity", "op": "exists", "value": "mobile"},
        {"field": "source", "op": "eq", "value": "youzan"},
    ]
}  # fmt: skip
WORKSPACE_LED = ("ix_orders_ws_ordered", "ix_events_ws_type_time", "ix_identities_owner")


def _rule(ws: int) -> Rule:
    data = {"name": "loyal", "trigger": {"type": "purchase"}, "conditions": CONDITIONS,
            "actions": [{"type": "add_tag", "tag": "Loyal"}]}  # fmt: skip
    rule = Rule(workspace_id=ws, **engine.validate(data, allow_private=True))
    db.session.add(rule)
    db.session.flush()
    return rule


def test_a1_rule_conditions_read_the_customers_rows_by_its_index(workspace):
    ws = workspace.id
    ann, bob = customer(ws, "ann"), customer(ws, "bob")
    for c in (ann, bob):
        identity(ws, c, "mobile", f"1380000000{c.id}")
        event(ws, c, "page_view", days_ago=2)
    order(ws, ann, days_ago=10, paid="100.00")
    order(ws, ann, days_ago=1, paid="80.00")
    order(ws, bob, days_ago=1, paid="90.00")  # one order: fails orders_count
    rule = _rule(ws)
    ids = list(db.session.scalars(select(Event.id).where(Event.type == "purchase")))
    now = NOW + timedelta(hours=1)

    new, plan = _fire_and_plan(rule, ids, now)
    if db.engine.dialect.name == "sqlite":
        assert not [step for step in plan.splitlines() if any(ix in step for ix in WORKSPACE_LED)]
        assert "ix_orders_customer" in plan, plan
        assert "ix_events_customer" in plan, plan
        assert "ix_identities_customer" in plan, plan
    assert len(new[rule.id]) == 2  # ann's two purchases, none of bob's
    fired = set(db.session.scalars(select(RuleRun.customer_id).where(RuleRun.rule_id == rule.id)))
    assert fired == {ann.id}


def _fire_and_plan(rule: Rule, ids: list[int], now) -> tuple[dict, str]:
    """``insert_batch_runs`` of the rule on ``ids``, and the database's plan of the very
    statement it ran (EXPLAIN: planned, not run again)."""
    seen: list[tuple[str, object]] = []

    def grab(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "rule_runs" in statement:
            seen.append((statement, parameters))

    engine = db.session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", grab)
    try:
        new = insert_batch_runs(db.session, [rule], ids, now)
    finally:
        sa_event.remove(engine, "before_cursor_execute", grab)
    statement, params = seen[0]
    explain = "EXPLAIN" if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    rows = db.session.connection().exec_driver_sql(f"{explain} {statement}", params)
    return new, "\n".join(str(row[-1]) for row in rows)


def test_a1_rule_statements_are_compiled_once(workspace):
    """A rule's SQL has a cache key (compiled once, not at every batch), and ``unindexed``
    keys on its column: the same statement over another column is another statement."""
    from hub.automation.scan import unindexed
    from hub.models import Customer, Order

    first, again = unindexed(Order.workspace_id), unindexed(Order.workspace_id)
    other = unindexed(Customer.workspace_id)
    assert first._generate_cache_key() is not None
    assert first._generate_cache_key() == again._generate_cache_key()
    assert first._generate_cache_key() != other._generate_cache_key()
    statement = batch_select(db.session, [_rule(workspace.id)], [1, 2], NOW)
    assert statement._generate_cache_key() is not None


def test_a1_line_conditions_probe_each_events_order(workspace):
    """A condition on the order's lines stays a probe of that order's lines per event: on
    PostgreSQL never a semi-join, which, with a first sync's lagging statistics, hashed every
    order line of the workspace for each batch and rule."""
    ws = workspace.id
    ann = customer(ws, "ann")
    order(ws, ann, days_ago=1, paid="100.00")
    data = {"name": "sku", "trigger": {"type": "purchase"},
            "conditions": [{"field": "line.sku", "op": "in", "value": ["S0", "S1"]}],
            "actions": [{"type": "add_tag", "tag": "S"}]}  # fmt: skip
    rule = Rule(workspace_id=ws, **engine.validate(data, allow_private=True))
    db.session.add(rule)
    db.session.flush()
    ids = list(db.session.scalars(select(Event.id).where(Event.type == "purchase")))
    new, plan = _fire_and_plan(rule, ids, NOW)
    if db.engine.dialect.name == "postgresql":
        assert "SubPlan" in plan and "Semi Join" not in plan, plan
    else:
        assert "CORRELATED" in plan and "SEARCH order_lines USING" in plan, plan
    assert new == {}  # no line of SKU S0/S1
