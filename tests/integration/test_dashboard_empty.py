"""A workspace without a single order yet (a fresh one, or the moment before a first sync's
first batch) has a dashboard: zeros, not a 500 (found by the soak test of issue 20)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.analytics import customers, dashboard
from tests.support.ui import login, make_user


def test_the_dashboard_of_a_workspace_without_orders_answers(app, client, workspace) -> None:
    board = dashboard.build(workspace.id, "2026-01-01", "2026-01-31")
    assert board.kpis["orders"] == 0 and board.kpis["revenue"] == 0
    make_user(workspace, "analyst@acme.test", role="analyst")
    assert login(client, "analyst@acme.test").status_code in (302, 303)
    assert client.get("/dashboard").status_code == 200


def test_new_vs_returning_with_an_empty_history_counts_from_the_range() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": pd.Series([1, 1, 2], dtype="Int64"),
            "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-02"], utc=True),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    no_history = pd.Series(
        np.array([], dtype="datetime64[ns]"), index=pd.Index([], dtype="Int64"), name="first"
    )
    got = customers.new_vs_returning(tx, first_orders=no_history)
    assert got.equals(customers.new_vs_returning(tx))
    assert customers.new_vs_returning(tx.iloc[:0], first_orders=no_history).empty
