"""W1: binding a mini shop from the CLI, the JSON API and the service alike: the token proves
appid and secret (40013 names appid, 40001 the secret), secrets are encrypted and masked, the
claim of a sandbox is kept apart from the real shop's."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connectors.wechat_shop.connector import WechatShopConnector
from connectors.wechat_shop.sandbox_data import APPID, PUSH_TOKEN, SECRET
from connectors.wechat_shop.sandbox_server import demo_bind_config
from hub import crypto
from hub.core.errors import ConfigError
from hub.extensions import db
from hub.models import Connection
from hub.services import connections, tokens


def test_w1_bind_takes_a_token_and_keeps_the_secrets_encrypted(workspace, sandbox):
    conn = connections.bind(workspace.id, "wechat_shop", demo_bind_config(sandbox.url))
    assert conn.external_id == APPID
    assert conn.bound_key == f"{APPID}@{sandbox.url}"  # a non-official base: kept apart
    assert conn.credential_expires_at is not None
    assert not {"secret", "push_token"} & set(conn.settings)
    stored = crypto.decrypt_json(conn.credentials_enc)
    assert stored["secret"] == SECRET and stored["push_token"] == PUSH_TOKEN
    assert sandbox.truth()["token_fetches"] == 1


@pytest.mark.parametrize(
    ("field", "value"), [("appid", "wx0000000000000bad"), ("secret", "wrong-secret")]
)
def test_w1_bind_with_wrong_credentials_names_the_field(workspace, sandbox, field, value):
    bad = {**demo_bind_config(sandbox.url), field: value}
    with pytest.raises(ConfigError, match=f"^{field}: "):
        connections.bind(workspace.id, "wechat_shop", bad)
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_w1_hub_connect_wechat_shop_with_the_issues_flags(runner, workspace, sandbox):
    result = runner.invoke(
        args=["hub", "connect", "wechat_shop", "--workspace", "acme", "--name", "Tea Mini Shop",
              "--set", f"appid={APPID}", "--set", f"secret={SECRET}",
              "--set", f"push_token={PUSH_TOKEN}",
              "--set", "encoding_aes_key=" + "a" * 43,
              "--set", f"api_base={sandbox.url}", "--no-first-sync"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    conn = db.session.scalar(select(Connection))
    assert (conn.platform, conn.external_id, conn.name) == ("wechat_shop", APPID, "Tea Mini Shop")
    assert crypto.decrypt_json(conn.credentials_enc)["encoding_aes_key"] == "a" * 43


def test_w1_api_bind_masks_the_secrets(client, workspace, sandbox):
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'a')[1]}"}
    body = {
        "platform": "wechat_shop",
        "name": "Tea Mini Shop",
        "settings": demo_bind_config(sandbox.url),
        "first_sync": False,
    }
    resp = client.post("/api/v1/connections", headers=auth, json=body)
    assert resp.status_code == 201, resp.get_json()
    store = resp.get_json()
    assert store["store_id"] == APPID and store["store_name"] == "Tea Mini Shop"
    assert store["settings"]["secret"] == crypto.MASK
    assert store["settings"]["push_token"] == crypto.MASK
    assert SECRET not in str(store) and PUSH_TOKEN not in str(store)
    wrong = {**body, "settings": {**demo_bind_config(sandbox.url), "appid": "wx0000000000000bad"}}
    refused = client.post("/api/v1/connections", headers=auth, json=wrong)
    assert refused.status_code >= 400 and "appid" in refused.get_json()["error"]["message"]


def test_w1_connector_declares_the_issues_names():
    cls = WechatShopConnector
    assert (cls.platform, cls.display_name, cls.sales_channel) == (
        "wechat_shop", "WeChat Mini Shop", "WeChat Mini Shop")  # fmt: skip
    assert cls.capabilities == {"pull", "push", "ship", "migrate"}
    assert cls.secret_fields() == {"secret", "push_token", "encoding_aes_key"}
    assert cls.platform_base_fields() == ["api_base"]
    assert cls.validate_config(
        {"appid": APPID, "secret": "s", "push_token": "tok"})["api_base"] == (
        "https://api.weixin.qq.com")  # fmt: skip


def test_w1_ui_form_is_built_from_the_schema_and_binds(app, workspace, sandbox):
    from tests.support.ui import browser as ui_browser
    from tests.support.ui import login, make_user

    make_user(workspace, "owner@acme.test")
    browser = ui_browser(app)
    login(browser, "owner@acme.test")
    form = browser.get("/stores/bind/wechat_shop").get_data(as_text=True)
    for name in ("appid", "secret", "push_token", "encoding_aes_key", "api_base"):
        assert f'name="{name}"' in form
    config = demo_bind_config(sandbox.url)
    resp = browser.post(
        "/stores/bind/wechat_shop",
        data={**config, "sync_mode": "manual", "first_sync": "0"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    conn = db.session.scalar(select(Connection))
    assert conn.external_id == APPID
    page = browser.get(f"/stores/{conn.id}").get_data(as_text=True)
    assert f"/webhooks/wechat_shop/{conn.id}" in page  # the push URL, with how to set it up
    assert "Message push" in page
