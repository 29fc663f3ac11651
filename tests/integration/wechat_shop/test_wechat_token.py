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
    before = _fetches(sandbox)  # the bind's check took one
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
    assert sync(store, full=True).status == "succeeded"
    after_first = _fetches(sandbox)
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
