"""Every route of the app, walked from ``app.url_map`` so that a route added tomorrow is covered
the day it is added: hostile ids in its converters, a GET on every route (405 for the others),
hostile values in every query argument a page reads, and a deeply nested JSON body on every
route that takes one. Nothing may answer 5xx; an error under /api/v1 and /webhooks is
``{"error": {"code", "message"}}``, and in the UI the HTML error page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Rule

from hub.extensions import db
from hub.models import WebhookDelivery, utcnow
from hub.services import tokens
from hub.sync.service import request_sync
from tests.support.bad_input import BAD_IDS, BAD_VALUES, assert_refused, deep_json
from tests.support.ui import login, make_user, seed

PUSH = "tests.support.fake_push:FakePushConnector"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "CONNECTORS": [*app_config["CONNECTORS"], PUSH]}


class Walker:
    """A signed-in admin (cookie) that also presents an API token (header), and the ids of one
    real object per converter name, so a page gets past its lookup and reads its arguments."""

    def __init__(self, app: Flask, workspace: Any, tmp_path: Any) -> None:
        make_user(workspace, "admin@acme.test")
        shop = seed(workspace, tmp_path)
        run = request_sync(workspace.id, shop.connection_id, full=False, trigger="manual")
        delivery = WebhookDelivery(
            workspace_id=workspace.id, connection_id=shop.connection_id, platform="fake",
            delivery_id="d-1", headers={}, body=b"{}", status="received", attempts=0,
            received_at=utcnow(),
        )  # fmt: skip
        db.session.add(delivery)
        db.session.commit()
        self.ids = {
            "connection_id": shop.connection_id, "customer_id": shop.customer_id,
            "order_id": shop.order_id, "run_id": run.id, "delivery_id": delivery.id,
        }  # fmt: skip
        self.client = app.test_client()
        assert login(self.client, "admin@acme.test").status_code == 302
        token = tokens.create_token(workspace.id, "walk")[1]
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, url: str, **kw: Any) -> Any:
        return self.client.open(url, method=method, headers=self.headers, **kw)

    def real_url(self, rule: Rule) -> str:
        return build(rule, {name: self.real_value(name, conv) for name, conv in converters(rule)})

    def real_value(self, name: str, conv: Any) -> str:
        if isinstance(conv, IntegerConverter):
            return str(self.ids.get(name, 0 if name == "index" else 1))
        return {"platform": "fake", "kind": "customers"}.get(name, "app.css")


def converters(rule: Rule) -> list[tuple[str, Any]]:
    return list(rule._converters.items())


def build(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each ``<converter:name>`` replaced by ``values[name]``."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


def bad_id_urls(walker: Walker, rule: Rule) -> list[str]:
    """The rule with each bad id in each integer converter (the others real), and with a name
    nothing knows in each string converter."""
    urls = []
    real = {name: walker.real_value(name, conv) for name, conv in converters(rule)}
    for name, conv in converters(rule):
        values = BAD_IDS if isinstance(conv, IntegerConverter) else ["nope", "²", "x" * 300]
        urls += [build(rule, {**real, name: value}) for value in values]
    return urls


def all_rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def get_rules(app: Flask) -> list[Rule]:
    return [r for r in all_rules(app) if "GET" in (r.methods or ())]


@pytest.fixture
def walker(app, workspace, tmp_path) -> Walker:
    return Walker(app, workspace, tmp_path)


def test_bad_ids_in_any_route_are_a_404_in_the_error_shape(app, walker):
    checked = 0
    for rule in all_rules(app):
        method = next(m for m in ("GET", "POST", "PATCH", "DELETE") if m in rule.methods)
        for url in bad_id_urls(walker, rule):
            response = walker.request(method, url)
            assert_refused(f"{method} {url}", response)
            checked += 1
    assert checked > 50


def test_a_get_on_any_route_never_fails_with_a_5xx(app, walker):
    """A GET of every route, the POST-only ones (and the webhook intake) included: those
    answer 405 in their part's error shape."""
    routes = app.url_map.bind("localhost")
    for rule in all_rules(app):
        url = walker.real_url(rule)
        response = walker.request("GET", url)
        has_get = routes.test(url, method="GET")
        assert has_get or response.status_code == 405, url
        assert_refused(url, response, allow_success=has_get)


class RecordingArgs(ImmutableMultiDict):
    """Query arguments that remember which names the view read."""

    read: set[str] = set()

    def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        RecordingArgs.read.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key: str, *args: Any, **kwargs: Any) -> Any:
        RecordingArgs.read.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key: str) -> Any:
        RecordingArgs.read.add(key)
        return super().__getitem__(key)


def arguments_read(walker: Walker, url: str) -> set[str]:
    RecordingArgs.read = set()
    walker.request("GET", url)
    return set(RecordingArgs.read)


def test_bad_values_in_every_query_argument_a_page_reads_are_refused_without_a_5xx(
    app, walker, monkeypatch
):
    """The names come from the views themselves: each GET route is opened once and every name
    it reads from ``request.args`` is then given each bad value (names read only when another
    one is given are picked up on the way)."""
    recording = type("RecordingRequest", (app.request_class,), {"parameter_storage_class":
                                                                   RecordingArgs})  # fmt: skip
    monkeypatch.setattr(app, "request_class", recording)
    checked: set[str] = set()
    for rule in get_rules(app):
        url = walker.real_url(rule)
        pending = arguments_read(walker, url)
        done: set[str] = set()
        while pending:
            name = pending.pop()
            done.add(name)
            for value in BAD_VALUES:
                RecordingArgs.read = set()
                response = walker.request("GET", url, query_string={name: value})
                assert_refused(f"{url}?{name}={value!r}", response, allow_success=True)
                pending |= RecordingArgs.read - done
            checked.add(f"{rule.endpoint}:{name}")
    # the walk reached the arguments of the lists, the filters, the dashboard and the API
    assert {"orders.index:page", "api.orders:from", "dashboard.index:start", "api.syncs:page",
            "customers.detail:tab", "api.list_imports:limit"} <= checked  # fmt: skip


def test_a_deeply_nested_json_body_is_refused_on_every_route_that_takes_a_body(app, walker):
    body = deep_json(100_000)
    checked = 0
    for rule in all_rules(app):
        if rule.endpoint == "auth.logout":
            continue  # it would sign the walker out of the rest of the walk
        for method in sorted((rule.methods or set()) & {"POST", "PATCH", "PUT", "DELETE"}):
            url = walker.real_url(rule)
            response = walker.request(method, url, data=body, content_type="application/json")
            assert_refused(f"{method} {url}", response, allow_success=True)
            checked += 1
    assert checked > 20
