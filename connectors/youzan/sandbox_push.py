"""The sandbox's push sender: signed Youzan messages, with duplicates, reordering and retries."""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from connectors.youzan.sandbox_data import CLIENT_ID, CLIENT_SECRET, KDT_ID, SHOP_NAME
from connectors.youzan.sandbox_render import fmt_time


def sign(client_id: str, raw: bytes, client_secret: str) -> str:
    """``Event-Sign``: md5 hex of client_id + raw body + client_secret."""
    return hashlib.md5(client_id.encode() + raw + client_secret.encode()).hexdigest()  # noqa: S324


def message(tid: str, topic: str, status: str, version: int) -> dict[str, Any]:
    """One push body with a URL-encoded ``msg``; ``version`` grows with each change."""
    inner = {"tid": tid, "status": status, "update_time": fmt_time(version // 1000)}
    msg = quote(json.dumps(inner, ensure_ascii=False, separators=(",", ":")))
    return {
        "client_id": CLIENT_ID,
        "id": tid,
        "kdt_id": int(KDT_ID),
        "kdt_name": SHOP_NAME,
        "root_kdt_id": int(KDT_ID),
        "type": topic,
        "status": status,
        "msg": msg,
        "msg_id": str(uuid.uuid4()),
        "version": version,
        "sendCount": 0,
        "sign": hashlib.md5((CLIENT_ID + msg + CLIENT_SECRET).encode()).hexdigest(),  # noqa: S324
        "test": False,
        "mode": 1,
    }


def encode(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Event-Sign": sign(CLIENT_ID, raw, CLIENT_SECRET),
        "Event-Type": body["type"],
        "Client-Id": CLIENT_ID,
    }
    return raw, headers


@dataclass
class PushSettings:
    url: str | None = None
    duplicate: bool = False
    reorder: bool = False
    retry_delays: list[float] = field(default_factory=lambda: [0.05, 0.2, 0.5, 1.0])
    bad_sign: bool = False  # sign with a wrong secret (the receiver must refuse)


class Pusher:
    """Delivers the shop's pending changes to the registered URL and keeps a log."""

    def __init__(self, seed: int) -> None:
        self.settings = PushSettings()
        self.rng = random.Random(seed)
        self.log: list[dict[str, Any]] = []

    def flush(self, changes: list[tuple[str, str, str, int]]) -> list[dict[str, Any]]:
        """Send one message per change; returns what was delivered (each attempt logged)."""
        if not self.settings.url:
            return []
        bodies = [message(*change) for change in changes]
        if self.settings.reorder:
            self.rng.shuffle(bodies)
        sent = []
        for body in bodies:
            sent.append(self._deliver(body))
            if self.settings.duplicate:
                sent.append(self._deliver(dict(body)))
        return sent

    def _deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        for attempt, delay in enumerate([0.0, *self.settings.retry_delays]):
            time.sleep(delay)
            body["sendCount"] = attempt
            ok, status = self._post(body)
            self.log.append(
                {
                    "msg_id": body["msg_id"],
                    "tid": body["id"],
                    "type": body["type"],
                    "version": body["version"],
                    "sendCount": attempt,
                    "status": status,
                    "acked": ok,
                }
            )
            if ok:
                return {
                    "msg_id": body["msg_id"],
                    "tid": body["id"],
                    "acked": True,
                    "attempts": attempt + 1,
                }
        return {
            "msg_id": body["msg_id"],
            "tid": body["id"],
            "acked": False,
            "attempts": len(self.settings.retry_delays) + 1,
        }

    def _post(self, body: dict[str, Any]) -> tuple[bool, int]:
        raw, headers = encode(body)
        if self.settings.bad_sign:
            headers["Event-Sign"] = sign(CLIENT_ID, raw, "not-the-secret")
        try:
            resp = requests.post(self.settings.url or "", data=raw, headers=headers, timeout=5)
        except requests.RequestException:
            return False, 0
        return resp.status_code == 200 and "success" in resp.text, resp.status_code
