import pytest

from hub.core.normalise import InvalidValue, junk_reason, normalise_email, normalise_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "+86 139 1234 5678",
        "0086-139-1234-5678",
        "8613912345678",
        "013912345678",
        "(139) 1234.5678",
        " 13912345678 ",
    ],
)
def test_i3_mobile_normalised(raw):
    assert normalise_mobile(raw) == "13912345678"


@pytest.mark.parametrize("raw", ["1391234567", "23912345678", "139123456789", "phone", "", None])
def test_i3_mobile_rejected_with_reason(raw):
    with pytest.raises(InvalidValue, match="11 digits starting with 1"):
        normalise_mobile(raw)


def test_email_lowercased_and_checked():
    assert normalise_email(" Li.Lei@Example.CN ") == "li.lei@example.cn"
    with pytest.raises(InvalidValue, match="not an email"):
        normalise_email("li.lei at example")


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("mobile", "13800000000"),
        ("mobile", "13800138000"),
        ("mobile", "11111111111"),
        ("email", "noreply@shop.cn"),
        ("email", "a@example.com"),
        ("wx_openid", "null"),
        ("wx_unionid", "0000000"),
        ("yz_open_id", "undefined"),
    ],
)
def test_x4_junk_values_are_blocked(type_, value):
    assert junk_reason(type_, value)


def test_x4_real_values_pass():
    assert junk_reason("mobile", "13912345678") is None
    assert junk_reason("email", "li.lei@shop.cn") is None
    assert junk_reason("wx_openid", "oX12ab34") is None
