"""Product portfolio: one-item -> one-item association rules and frequent itemsets, computed
on a sparse basket x item matrix (the same numbers as mlxtend's apriori + association_rules)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import sparse

from hub.analytics.frames import AnalyticsError, require

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "leverage"]


def basket_matrix(
    lines: pd.DataFrame, basket_col: str, item_col: str
) -> tuple[sparse.csc_matrix, np.ndarray]:
    """A 0/1 baskets x items matrix (an item counted once per basket) and the item labels."""
    require(lines, [basket_col, item_col], "lines")
    pairs = lines[[basket_col, item_col]].dropna()
    rows, _ = pd.factorize(pairs[basket_col])
    cols, items = pd.factorize(pairs[item_col], sort=True)
    data = np.ones(len(rows), dtype=np.int32)
    shape = (int(rows.max()) + 1 if len(rows) else 0, len(items))
    matrix = sparse.csc_matrix((data, (rows, cols)), shape=shape)
    matrix.data[:] = 1  # duplicates summed by the constructor collapse to one
    return matrix, np.asarray(items)


def _check_support(min_support: float) -> None:
    if not 0 < min_support <= 1:
        raise AnalyticsError(f"min_support must be in (0, 1], got {min_support}")


def basket_pairs(
    lines: pd.DataFrame,
    basket_col: str = "order_id",
    item_col: str = "product",
    min_support: float = 0.01,
    min_lift: float | None = None,
) -> pd.DataFrame:
    """Rules {a} -> {b} for every pair bought together in at least ``min_support`` of baskets:
    support, confidence, lift, leverage. Optional ``min_lift`` keeps rules with lift >= it."""
    _check_support(min_support)
    matrix, items = basket_matrix(lines, basket_col, item_col)
    n = matrix.shape[0]
    if n == 0:
        return pd.DataFrame(columns=RULE_COLUMNS)
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    frequent = np.flatnonzero(counts / n >= min_support)
    sub = matrix[:, frequent]
    co = sparse.triu(sub.T @ sub, k=1).tocoo()
    keep = co.data / n >= min_support
    a, b, pair = frequent[co.row[keep]], frequent[co.col[keep]], co.data[keep].astype(float)
    ante = np.r_[a, b]
    cons = np.r_[b, a]
    support = np.r_[pair, pair] / n
    s_ante, s_cons = counts[ante] / n, counts[cons] / n
    confidence = support / s_ante
    rules = pd.DataFrame(
        {
            "antecedent": items[ante],
            "consequent": items[cons],
            "support": support,
            "confidence": confidence,
            "lift": confidence / s_cons,
            "leverage": support - s_ante * s_cons,
        }
    )
    if min_lift is not None:
        rules = rules[rules["lift"] >= min_lift]
    return rules.sort_values(["lift", "support"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def frequent_itemsets(
    lines: pd.DataFrame,
    basket_col: str = "order_id",
    item_col: str = "product",
    min_support: float = 0.01,
    max_len: int | None = 3,
) -> pd.DataFrame:
    """Itemsets (frozensets) bought together in at least ``min_support`` of baskets, up to
    ``max_len`` items, by level-wise (apriori) growth; columns support, itemsets, length."""
    _check_support(min_support)
    matrix, items = basket_matrix(lines, basket_col, item_col)
    n = matrix.shape[0]
    if n == 0:
        return pd.DataFrame(columns=["support", "itemsets", "length"])
    dense = matrix.tocsc()
    counts = np.asarray(dense.sum(axis=0)).ravel()
    level = {(int(i),): counts[i] / n for i in np.flatnonzero(counts / n >= min_support)}
    found = dict(level)
    size = 1
    while level and (max_len is None or size < max_len):
        size += 1
        level = _next_level(dense, level, n, min_support, size)
        found |= level
    rows = [(s, frozenset(items[list(k)]), len(k)) for k, s in found.items()]
    return pd.DataFrame(rows, columns=["support", "itemsets", "length"]).sort_values(
        ["length", "support"], ascending=[True, False], kind="stable", ignore_index=True
    )


def _next_level(
    matrix: sparse.csc_matrix, level: dict, n: int, min_support: float, size: int
) -> dict[tuple[int, ...], float]:
    """Candidates of ``size`` whose every subset is frequent, kept when frequent themselves."""
    known = set(level)
    singles = sorted({i for key in known for i in key})
    out: dict[tuple[int, ...], float] = {}
    for key in sorted(known):
        for extra in singles:
            if extra <= key[-1]:
                continue
            cand = (*key, extra)
            if any(sub not in known for sub in combinations(cand, size - 1)):
                continue
            hits = np.asarray(matrix[:, list(cand)].sum(axis=1)).ravel() == size
            support = hits.sum() / n
            if support >= min_support:
                out[cand] = support
    return out
