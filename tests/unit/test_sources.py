"""Issue 22.5: one key per source, whatever the spelling; a merchant's own label kept."""

from __future__ import annotations

import pytest

from hub.core import sources


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ("Youzan", "youzan"),
        ("YOUZAN ", "youzan"),
        ("有赞", "youzan"),
        ("Tmall", "tmall"),
        ("WeChat Mini Shop", "wechat_shop"),
        ("wechat-mini-shop", "wechat_shop"),
        ("Brand's own mall", "brand_mall"),
        ("JD", "jingdong"),
        ("Spring fair", "Spring fair"),  # a merchant's own label: as written
        ("  ", None),
        (None, None),
    ],
)
def test_every_spelling_of_a_source_has_one_key(spelled, key) -> None:
    assert sources.key(spelled) == key


def test_display_names_and_one_entry_per_source() -> None:
    assert sources.name("wechat_shop") == "WeChat Mini Shop"
    assert sources.name("Spring fair") == "Spring fair"
    listed = sources.unique_keys(["Youzan", "youzan", "tmall", "TMALL", "sobot", None, "x", "X"])
    assert listed == ["sobot", "tmall", "x", "youzan"]
