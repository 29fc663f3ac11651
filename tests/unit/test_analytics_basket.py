"""basket_pairs and frequent_itemsets against mlxtend (the reference) and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules, fpgrowth

from hub.analytics import AnalyticsError, basket_pairs, frequent_itemsets


def generated_baskets(n: int = 3000, items: int = 40, seed: int = 7) -> pd.DataFrame:
    """Baskets of 1-6 products with skewed popularity and two planted affinities."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, items + 1)
    rows = []
    for basket in range(n):
        chosen = set(rng.choice(items, size=rng.integers(1, 7), p=weights / weights.sum()))
        if 3 in chosen and rng.random() < 0.6:
            chosen.add(17)
        if 5 in chosen and rng.random() < 0.5:
            chosen |= {21, 22}
        rows += [(basket, f"sku-{i:02d}") for i in chosen]
    rows.append((0, "sku-00"))  # a duplicate line in one basket counts once
    return pd.DataFrame(rows, columns=["order_id", "product"])


def _mlxtend_pairs(lines: pd.DataFrame, min_support: float, min_lift: float) -> pd.DataFrame:
    onehot = pd.crosstab(lines["order_id"], lines["product"]).astype(bool)
    found = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=2)
    rules = association_rules(
        found, num_itemsets=len(onehot), metric="lift", min_threshold=min_lift
    )
    one = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    return pd.DataFrame(
        {
            "antecedent": one["antecedents"].map(lambda s: next(iter(s))),
            "consequent": one["consequents"].map(lambda s: next(iter(s))),
            "support": one["support"],
            "confidence": one["confidence"],
            "lift": one["lift"],
            "leverage": one["leverage"],
        }
    )


def _key(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["antecedent", "consequent"]).reset_index(drop=True)


@pytest.mark.parametrize(("min_support", "min_lift"), [(0.01, 0.0), (0.004, 1.2), (0.05, 0.0)])
def test_a4_basket_pairs_equal_mlxtend(min_support: float, min_lift: float) -> None:
    lines = generated_baskets()
    expected = _key(_mlxtend_pairs(lines, min_support, min_lift))
    got = _key(basket_pairs(lines, "order_id", "product", min_support, min_lift=min_lift))
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_a4_basket_pairs_by_hand() -> None:
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2, 2, 3, 4],
            "product": ["tea", "cup", "tea", "cup", "tea", "pot"],
        }
    )
    got = basket_pairs(lines, min_support=0.5).set_index(["antecedent", "consequent"])
    assert len(got) == 2
    cup_tea = got.loc[("cup", "tea")]
    assert cup_tea["support"] == 0.5
    assert cup_tea["confidence"] == 1.0
    assert cup_tea["lift"] == pytest.approx(1 / 0.75)
    assert cup_tea["leverage"] == pytest.approx(0.5 - 0.5 * 0.75)
    assert got.loc[("tea", "cup"), "confidence"] == pytest.approx(2 / 3)


def test_a4_basket_min_lift_filters_and_bad_support_is_refused() -> None:
    lines = generated_baskets(500)
    assert (basket_pairs(lines, min_support=0.01, min_lift=1.5)["lift"] >= 1.5).all()
    with pytest.raises(AnalyticsError, match="min_support"):
        basket_pairs(lines, min_support=0)


def test_a4_frequent_itemsets_equal_mlxtend_apriori() -> None:
    lines = generated_baskets(2000)
    onehot = pd.crosstab(lines["order_id"], lines["product"]).astype(bool)
    expected = apriori(onehot, min_support=0.01, use_colnames=True, max_len=3)
    got = frequent_itemsets(lines, min_support=0.01, max_len=3)
    exp = dict(zip(expected["itemsets"], expected["support"], strict=True))
    mine = dict(zip(got["itemsets"], got["support"], strict=True))
    assert set(mine) == set(exp)
    assert max(len(s) for s in mine) == 3
    for itemset, support in exp.items():
        assert mine[itemset] == pytest.approx(support, rel=1e-12)
