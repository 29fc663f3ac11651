"""The UI's language (issue 22.16) over real requests and the real database: Accept-Language
is the default, ``POST /language`` stores the choice on the signed-in user (users.locale) and
on nobody else, the sign-in page keeps its own choice in the session, an unknown language is
refused by name, and the JSON API answers its messages in the request's language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from hub.extensions import db
from hub.models import Customer, Event, User
from hub.services import tokens
from tests.support.ui import browser, csrf_token, login, make_user, seed

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def _locale(email: str) -> str | None:
    db.session.expire_all()
    return db.session.scalars(select(User.locale).where(User.email == email)).one()


def _switch(client, locale: str, page: str = "/stores", headers=EN):
    token = csrf_token(client.get(page, headers=headers).get_data(as_text=True))
    data = {"locale": locale, "next": page, "csrf_token": token}
    return client.post("/language", data=data, headers=headers)


def test_accept_language_is_the_default(app, workspace) -> None:
    make_user(workspace, "li@example.com")
    client = browser(app)
    response = client.get("/login", headers=ZH)
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录您的工作区。" in page
    assert "Accept-Language" in response.headers["Vary"]  # for caches
    page = client.get("/login", headers=EN).get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in to your workspace." in page
    login(client, "li@example.com", csrf_token=csrf_token(page))
    assert "客户" in client.get("/customers", headers=ZH).get_data(as_text=True)
    assert _locale("li@example.com") is None


def test_the_choice_is_stored_on_that_user_only(app, workspace) -> None:
    make_user(workspace, "li@example.com")
    make_user(workspace, "sam@example.com")
    li, sam = browser(app), browser(app)
    for client, email in ((li, "li@example.com"), (sam, "sam@example.com")):
        login(client, email, csrf_token=csrf_token(client.get("/login").get_data(as_text=True)))

    response = _switch(li, "zh_CN", "/customers?page=1")
    assert response.status_code == 302 and response.location == "/customers?page=1"
    assert _locale("li@example.com") == "zh_CN"
    assert _locale("sam@example.com") is None
    assert "数据看板" in li.get("/customers", headers=EN).get_data(as_text=True)
    assert "Dashboard" in sam.get("/customers", headers=EN).get_data(as_text=True)

    _switch(li, "")  # back to the browser's language
    assert _locale("li@example.com") is None
    assert "Dashboard" in li.get("/customers", headers=EN).get_data(as_text=True)


def test_an_unknown_language_is_refused_by_name(app, workspace) -> None:
    make_user(workspace, "li@example.com")
    client = browser(app)
    login(
        client, "li@example.com", csrf_token=csrf_token(client.get("/login").get_data(as_text=True))
    )
    response = _switch(client, "xx_YY")
    assert response.status_code == 302
    assert "Unknown language “xx_YY”" in client.get("/stores").get_data(as_text=True)
    assert _locale("li@example.com") is None


def test_the_sign_in_page_keeps_its_choice_in_the_session(app, workspace) -> None:
    client = browser(app)
    _switch(client, "zh_CN", "/login", headers=EN)
    assert "登录您的工作区。" in client.get("/login", headers=EN).get_data(as_text=True)
    assert "Sign in to your workspace." in browser(app).get("/login", headers=EN).get_data(
        as_text=True
    )


def test_the_api_answers_in_the_requests_language(app, workspace) -> None:
    client = browser(app)  # an app context per request, as in production
    assert (
        client.get("/api/v1/customers", headers=ZH)
        .get_json()["error"]["message"]
        .startswith("需要有效的 API 令牌")
    )
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 't')[1]}"}
    not_object = client.post("/api/v1/connections", json=[1], headers={**auth, **ZH})
    assert not_object.status_code == 400
    assert not_object.get_json()["error"] == {
        "code": "validation_failed",
        "message": "请求体必须是 JSON 对象。",
        "field": "body",
    }
    bad = client.post(
        "/api/v1/connections", data="{", content_type="application/json", headers={**auth, **ZH}
    )
    assert bad.get_json()["error"]["message"].startswith("请求体不是可读取的 JSON")
    english = client.post("/api/v1/connections", json=[1], headers={**auth, **EN})
    assert english.get_json()["error"]["message"] == "The request body must be a JSON object."
    assert "Cookie" not in english.headers.get("Vary", "")


def test_the_dashboards_charts_speak_the_pages_language(app, workspace, tmp_path) -> None:
    """Titles, trace names and bar categories: hub.analytics names them in English."""
    make_user(workspace, "li@example.com")
    seed(workspace, tmp_path)
    ours = select(Customer.id).where(Customer.workspace_id == workspace.id)
    customer_id = db.session.scalar(ours)
    db.session.add(  # one abandoned checkout, so the checkouts chart draws its two bars
        Event(workspace_id=workspace.id, customer_id=customer_id, type="checkout_abandoned",
              occurred_at=datetime(2026, 1, 10, 4, tzinfo=UTC), amount=Decimal("88.00"),
              source="youzan", dedupe_key="checkout:zh-test")
    )  # fmt: skip
    db.session.commit()
    client = browser(app)
    login(
        client, "li@example.com", csrf_token=csrf_token(client.get("/login").get_data(as_text=True))
    )
    page = client.get("/dashboard?start=2025-12-01&end=2026-01-31", headers=ZH)
    html = page.get_data(as_text=True)
    figures = json.loads(re.search(r'id="dashboard-figures"[^>]*>(.*?)</script>', html, re.S)[1])
    titles = json.loads(re.search(r'id="dashboard-titles"[^>]*>(.*?)</script>', html, re.S)[1])
    assert titles["revenue"] == "销售额走势"
    names = {t.get("name") for fig in figures.values() for t in fig["data"]} - {None}
    assert {"新客", "回头客"} <= names and not names & {"new", "returning", "revenue"}
    assert figures["checkouts"]["data"][0]["x"] == ["放弃", "已挽回"]
