"""The sandbox's push sender: WeChat's message push protocol (PLATFORMS.md §2.5).

``POST {url}?signature=&timestamp=&nonce=`` where ``signature`` is the sha1 hex of the sorted
``[push_token, timestamp, nonce]`` joined; the body is JSON or XML with ``ToUserName``,
``FromUserName``, ``CreateTime``, ``MsgType=event``, ``Event`` and ``order_info``. The receiver
acknowledges with ``success``. URL verification is a ``GET`` with ``echostr`` echoed back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import orjson
import requests

from connectors.wechat_shop.sandbox_data import APPID, PUSH_TOKEN

SHOP_USERNAME = "gh_5a1d0b0c0f01"  # the mini program's original id (ToUserName)
SYSTEM_SENDER = "o7esq5OI1Ls5NQ5Ri6WHZHOSnmj8"  # FromUserName of platform events


def signature(token: str, timestamp: str, nonce: str) -> str:
    """sha1 hex of the sorted token, timestamp and nonce joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


def event_body(order: Any, event: str, create_time: int) -> dict[str, Any]:
    info: dict[str, Any] = {"order_id": order.order_id}
    if event == "open_product_order_pay":
        info.update(
            {"out_order_id": "", "transaction_id": order.transaction_id, "pay_time": order.pay_time}
        )
    elif event.startswith("aftersale_") and order.aftersales:
        info["aftersale_order_id"] = order.aftersales[-1]
    return {
        "ToUserName": SHOP_USERNAME,
        "FromUserName": SYSTEM_SENDER,
        "CreateTime": create_time,
        "MsgType": "event",
        "Event": event,
        "order_info": info,
    }


def to_xml(body: dict[str, Any]) -> bytes:
    def node(key: str, value: Any) -> str:
        if isinstance(value, dict):
            return f"<{key}>" + "".join(node(k, v) for k, v in value.items()) + f"</{key}>"
        if isinstance(value, int):
            return f"<{key}>{value}</{key}>"
        return f"<{key}><![CDATA[{escape(str(value))}]]></{key}>"

    return ("<xml>" + "".join(node(k, v) for k, v in body.items()) + "</xml>").encode()


@dataclass
class Pusher:
    """Signs and delivers events; every delivery is logged (ground truth for tests)."""

    token: str = PUSH_TOKEN
    log: list[dict[str, Any]] = field(default_factory=list)

    def query(self, create_time: int, bad_signature: bool = False) -> dict[str, str]:
        timestamp, nonce = str(create_time), str(secrets.randbelow(10**9))
        sig = signature("not-the-token" if bad_signature else self.token, timestamp, nonce)
        return {"signature": sig, "timestamp": timestamp, "nonce": nonce}

    def deliver(
        self, url: str, body: dict[str, Any], fmt: str = "json", bad_signature: bool = False
    ) -> dict[str, Any]:
        raw = to_xml(body) if fmt == "xml" else orjson.dumps(body)
        mime = "text/xml" if fmt == "xml" else "application/json"
        params = self.query(body["CreateTime"], bad_signature)
        try:
            resp = requests.post(
                url, params=params, data=raw, timeout=10, headers={"Content-Type": mime}
            )
            status, text = resp.status_code, resp.text
        except requests.RequestException as exc:
            status, text = 0, str(exc)
        entry = {
            "order_id": str(body["order_info"]["order_id"]),
            "Event": body["Event"],
            "CreateTime": body["CreateTime"],
            "format": fmt,
            "status": status,
            "acked": status == 200 and text.strip() == "success",
        }
        self.log.append(entry)
        return entry

    def verify(self, url: str, now: int, bad_signature: bool = False) -> dict[str, Any]:
        """WeChat's URL check: GET with ``echostr``; passed when the answer is that echostr."""
        echostr = secrets.token_hex(8)
        params = {**self.query(now, bad_signature), "echostr": echostr}
        try:
            resp = requests.get(url, params=params, timeout=10)
            status, text = resp.status_code, resp.text
        except requests.RequestException as exc:
            status, text = 0, str(exc)
        return {"status": status, "verified": status == 200 and text == echostr, "appid": APPID}
