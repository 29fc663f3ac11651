"""One token per store (PLATFORMS.md §2.1: a refetch revokes the previous token): stored
encrypted with its expiry and reused by every connector until near expiry; concurrent
connectors fetch ONE token (a Redis lock, the stored token re-read under it); a token revoked
by someone else's refetch (40001) or expired (42001) is refreshed once and the call retried."""

from __future__ import annotations

import threading

from hub import crypto
from hub.extensions import db
from hub.models import Connection
from hub.sync import runtime
from tests.integration.wechat_shop.conftest import sync

SPUS = ("/product/spu/get_list", {"status": 5, "page": 1, "page_size": 1})


def _fetches(sandbox) -> int:
    return sandbox.truth()["token_fetches"]


def _stored(conn_id: int) -> dict:
    db.session.expire_all()
    return crypto.decrypt_json(db.session.get(Connection, conn_id).credentials_enc)


def test_token_concurrent_connectors_of_one_store_fetch_one_token(app, store, sandbox):
    db.session.get(Connection, store.id).credentials_enc = crypto.encrypt_json(
        {k: v for k, v in _stored(store.id).items() if k in ("secret", "push_token")}
    )  # no token stored: every connector wants one at once
    db.session.commit()
    before = _fetches(sandbox)
    barrier, errors, tokens = threading.Barrier(4), [], []

    def work() -> None:
        try:
            with app.app_context():
                connector = runtime.connector_for(db.session.get(Connection, store.id))
                barrier.wait(timeout=10)
                connector.client.call(*SPUS)
                tokens.append(connector.client.token_state["access_token"])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert _fetches(sandbox) == before + 1
    assert len(set(tokens)) == 1
    assert _stored(store.id)["access_token"] == tokens[0]


def test_token_stored_and_reused_by_later_syncs(store, sandbox):
    assert _fetches(sandbox) == 1  # the bind's check took it, and it was kept
    assert sync(store, full=True).status == "succeeded"
    after_first = _fetches(sandbox)
    assert after_first == 1
    stored = _stored(store.id)
    assert stored["access_token"] and float(stored["token_expires"]) > float(stored["token_issued"])
    db.session.expire_all()
    assert db.session.get(Connection, store.id).credential_expires_at is not None
    assert sync(store).status == "succeeded"
    assert _fetches(sandbox) == after_first  # the stored token was reused


def test_token_revoked_by_a_refetch_is_refreshed_once_and_the_sync_survives(store, sandbox):
    assert sync(store, full=True).status == "succeeded"
    old = _stored(store.id)["access_token"]
    sandbox.control("tokens", overlap=0)
    sandbox.api(SPUS[0], **SPUS[1])  # someone else takes a token: the hub's is revoked (40001)
    fetches = _fetches(sandbox)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert _fetches(sandbox) == fetches + 1
    assert _stored(store.id)["access_token"] != old


def test_token_expired_42001_is_refreshed_and_retried(store, sandbox):
    assert sync(store, full=True).status == "succeeded"
    sandbox.control("tokens", expire=True)
    fetches = _fetches(sandbox)
    run = sync(store)
    assert run.status == "succeeded", run.error_message
    assert _fetches(sandbox) == fetches + 1


CHILD = """
import json, sys, time
from hub import create_app
from hub.extensions import db
from hub.models import Connection
from hub.sync import runtime

from pathlib import Path

config, conn_id, folder = json.loads(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
app = create_app(config)
with app.app_context():
    connector = runtime.connector_for(db.session.get(Connection, conn_id))
    (folder / f"ready-{sys.argv[4]}").touch()
    while not (folder / "go").exists():  # both connectors built: call at the same moment
        time.sleep(0.005)
    connector.client.call("/product/spu/get_list", {"status": 5, "page": 1, "page_size": 1})
    print(connector.client.token_state["access_token"])
"""


def test_token_two_processes_syncing_one_store_fetch_one_token(
    app_config, store, sandbox, tmp_path
):
    import json
    import subprocess
    import sys
    import time

    db.session.get(Connection, store.id).credentials_enc = crypto.encrypt_json(
        {k: v for k, v in _stored(store.id).items() if k in ("secret", "push_token")}
    )  # no token stored: both processes want one at once
    db.session.commit()
    before = _fetches(sandbox)
    args = [json.dumps(app_config), str(store.id), str(tmp_path)]
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, *args, str(n)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n in range(2)
    ]  # fmt: skip
    deadline = time.monotonic() + 40
    while len(list(tmp_path.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp_path / "go").touch()
    outputs = [child.communicate(timeout=40) for child in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    tokens = {out.strip() for out, _ in outputs}
    assert len(tokens) == 1
    assert _fetches(sandbox) == before + 1
