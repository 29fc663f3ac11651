"""A1 in the admin UI: the outbound webhook log (status codes, attempts), a delivery's attempt
log and body, redelivery behind CSRF and the admin role, and re-enabling a disabled target."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.automation import delivery
from hub.models import OutboxDelivery
from tests.integration.automation.test_webhooks_outbox import _enqueue, _row
from tests.support.ui import csrf_token, login, make_user
from tests.support.webhook_receiver import receivers


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    yield from receivers()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True, "WEBHOOK_ALLOW_PRIVATE": True}


def _signed_in(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert login(client, email, csrf_token=csrf_token(page)).status_code == 302


def test_a1_webhook_delivery_log_page_and_redelivery(app, client, workspace, receiver_factory):
    make_user(workspace, "admin@acme.test")
    receiver = receiver_factory((500, {}, 0.0), (200, {}, 0.0), (410, {}, 0.0))
    first = _enqueue(workspace, receiver.url)
    assert delivery.deliver_due() == 1
    _signed_in(client, "admin@acme.test")

    page = client.get("/settings/webhook-deliveries")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Outbound webhooks" in html
    assert receiver.url in html and ">500<" in html and "Redeliver" in html
    assert 'href="/settings/webhook-deliveries"' in html  # in the navigation
    assert (
        client.get("/settings/webhook-deliveries?status=delivered")
        .get_data(as_text=True)
        .count(receiver.url)
        == 0
    )

    detail = client.get(f"/settings/webhook-deliveries/{first}").get_data(as_text=True)
    assert _row(first).msg_id in detail and "HTTP 500" in detail and "first_purchase" in detail

    url = f"/settings/webhook-deliveries/{first}/redeliver"
    assert client.post(url).status_code == 400  # no CSRF token: refused, nothing sent
    assert len(receiver.requests) == 1
    done = client.post(url, data={"csrf_token": csrf_token(detail)}, follow_redirects=True)
    assert "Delivered again (HTTP 200)." in done.get_data(as_text=True)
    assert _row(first).status == "delivered" and len(receiver.requests) == 2

    # A 410 disables the target; the page lists it and the admin enables it again.
    second = _enqueue(workspace, receiver.url)
    assert delivery.deliver_due() == 1 and _row(second).status == "disabled"
    html = client.get("/settings/webhook-deliveries").get_data(as_text=True)
    assert "Disabled targets" in html and "410 Gone" in html
    enabled = client.post(
        "/settings/webhook-deliveries/targets/enable",
        data={"url": receiver.url, "csrf_token": csrf_token(html)},
        follow_redirects=True,
    )
    assert "is enabled again" in enabled.get_data(as_text=True)
    assert _row(_enqueue(workspace, receiver.url)).status == "pending"


def test_a1_webhook_redelivery_needs_an_admin(app, client, workspace, receiver_factory):
    make_user(workspace, "viewer@acme.test", role="analyst")
    receiver = receiver_factory((500, {}, 0.0))
    first = _enqueue(workspace, receiver.url)
    assert delivery.deliver_due() == 1
    _signed_in(client, "viewer@acme.test")
    html = client.get("/settings/webhook-deliveries").get_data(as_text=True)
    assert receiver.url in html and "Redeliver" not in html
    refused = client.post(
        f"/settings/webhook-deliveries/{first}/redeliver", data={"csrf_token": csrf_token(html)}
    )
    assert refused.status_code == 403 and len(receiver.requests) == 1
    assert isinstance(_row(first), OutboxDelivery)
