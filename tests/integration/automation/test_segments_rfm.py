"""RF segments as a segment or rule condition (A2): ``hub.automation.rfm.members`` finds the
customers of given segments by a few thresholds over the per-customer figures, no window over
every customer (issue 25: a segment over 100,000 customers under 1 s on SQLite), and finds
exactly the customers ``scored`` (the analytics' ranking) puts in them."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from sqlalchemy import select

from hub.automation import rfm, segments
from hub.automation.vocabulary import RFM_NAMES
from hub.extensions import db
from tests.integration.automation import builders as b


def _shop(ws: int) -> None:
    for i in range(53):
        c = b.customer(ws, f"c{i}")
        for k in range(1 + (i * 7) % 6):  # 1 to 6 orders; many share a count
            b.order(ws, c, days_ago=(i * 11 + k * 31) % 120 + 1 + (i % 3) * 0.5)
    b.order(ws, None, days_ago=3)  # an order without customer counts for nobody
    db.session.commit()


def test_a2_rfm_members_are_the_scored_segments(workspace: Any) -> None:
    ws = workspace.id
    _shop(ws)
    scored = rfm.scored(ws)
    expected = dict(db.session.execute(select(scored.c.customer_id, scored.c.segment)).all())
    assert len(set(expected.values())) >= 5
    for size in (1, 2):
        for chosen in combinations(RFM_NAMES, size):
            got = set(db.session.scalars(rfm.members(ws, chosen)))
            assert got == {cid for cid, name in expected.items() if name in chosen}, chosen
    sql = str(rfm.members(ws, ["champions"]).compile(dialect=db.engine.dialect))
    assert " OVER " not in sql.upper()  # thresholds, not a ranking of every customer


def test_a2_rfm_twice_in_a_filter_and_in_a_rule(workspace: Any) -> None:
    ws = workspace.id
    _shop(ws)
    scored = rfm.scored(ws)
    expected = dict(db.session.execute(select(scored.c.customer_id, scored.c.segment)).all())
    tree = {"any": [{"field": "rfm", "op": "eq", "value": "champions"},
                    {"field": "rfm", "op": "in", "value": ["at risk", "hibernating"]}]}  # fmt: skip
    got = set(db.session.scalars(segments.member_ids(db.session, ws, tree, now=b.NOW)))
    wanted = {"champions", "at risk", "hibernating"}
    assert got == {cid for cid, name in expected.items() if name in wanted}
    assert segments.count(db.session, ws, tree, now=b.NOW) == len(got)
    from hub.automation import rules as engine
    from hub.automation.firing import insert_batch_runs
    from hub.models import Event, Rule, RuleRun

    data = {"name": "champ", "trigger": {"type": "purchase"}, "conditions": tree,
            "actions": [{"type": "add_tag", "tag": "Champ"}]}  # fmt: skip
    rule = Rule(workspace_id=ws, **engine.validate(data, allow_private=True))
    db.session.add(rule)
    db.session.flush()
    ids = list(db.session.scalars(select(Event.id).where(Event.customer_id.is_not(None))))
    assert insert_batch_runs(db.session, [rule], ids, b.NOW)
    fired = set(db.session.scalars(select(RuleRun.customer_id).where(RuleRun.rule_id == rule.id)))
    assert fired == got


def test_a2_rfm_figures_are_read_from_the_customer_index_alone(workspace: Any) -> None:
    """SQLite reads each customer's last order and count from ix_orders_customer (customer,
    workspace, order time) in customer order: no table lookup, no sort for the grouping."""
    ws = workspace.id
    _shop(ws)
    if db.engine.dialect.name != "sqlite":
        assert set(db.session.scalars(rfm.members(ws, ["champions"])))  # same SQL, any plan
        return
    sql = str(rfm.members(ws, ["champions"]).compile(
        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))  # fmt: skip
    plan = [row[3] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert any("COVERING INDEX ix_orders_customer" in step for step in plan), plan
    assert not any("FOR GROUP BY" in step for step in plan), plan
