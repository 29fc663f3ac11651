"""Issue 20 (3, 4) with real processes: ``hub worker`` workers and the web app under gunicorn
on a redis-server of the test's own. A worker SIGKILLed mid-sync is resumed by a new worker as
soon as its run goes stale, with nobody asking; a worker rides out a Redis outage (Redis
restarted without its data) and then does everything that arrived meanwhile; while Redis is
down, sign-in works and "sync now" is kept and answered with "the queue is unavailable"."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from hub.extensions import db
from hub.models import Connection, ImportRun, SyncRun, WebhookDelivery, utcnow
from hub.services import connections, tokens
from hub.sync import engine, service
from tests.integration.test_webhook_intake import SECRET
from tests.integration.test_webhooks import order_payload
from tests.support.fake_platform import add_connection, content, make_orders, write_orders
from tests.support.fake_push import ACK, sign
from tests.support.ui import PASSWORD, csrf_token, make_user
from tests.support.workers import RedisServer, Workers, kill_all, wait_for

pytestmark = pytest.mark.slow

STALE = 8  # seconds without a heartbeat before a run counts as stale
CONNECTORS = [
    "tests.support.fake_platform:FakeConnector",
    "tests.support.fake_push:FakePushConnector",
    "connectors.customers.connector:CustomersConnector",
]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict, own_redis: RedisServer) -> dict:
    return {**app_config, "REDIS_URL": own_redis.url, "CONNECTORS": CONNECTORS}


@pytest.fixture
def workers(app, database_url: str, own_redis: RedisServer, tmp_path: Path) -> Iterator[Workers]:
    procs = Workers(
        tmp_path, database_url, own_redis.url,
        CONNECTORS=",".join(CONNECTORS),
        SYNC_HEARTBEAT_SECONDS=1,
        SYNC_STALE_SECONDS=STALE,
        MAINTENANCE_SECONDS=1,
        AUTOSYNC_TICK_SECONDS=2,
    )  # fmt: skip
    yield procs
    procs.close()


def import_status(run_id: int) -> str:
    db.session.rollback()
    return db.session.get(ImportRun, run_id, populate_existing=True).status


def fresh_run(run_id: int) -> SyncRun:
    db.session.rollback()
    return db.session.get(SyncRun, run_id, populate_existing=True)


def test_a_killed_sync_is_resumed_by_a_new_worker_once_stale(
    workspace, other_workspace, tmp_path, workers
):
    rows = make_orders(60, start=utcnow() - timedelta(days=20), buyers=7)
    data_a, data_b = tmp_path / "a.json", tmp_path / "b.json"
    write_orders(data_a, rows)
    shutil.copy(data_a, data_b)
    killed = add_connection(workspace.id, data_a, store="A", page_size=5, page_delay=0.25)
    calm = add_connection(other_workspace.id, data_b, store="B", page_size=5)

    first = workers.start("first")
    run = service.request_sync(workspace.id, killed.id)  # the only request of this run
    wait_for(lambda: fresh_run(run.id).progress_done >= 15, 60, "three pages committed")
    kill_all(first)  # the worker and its work horse, mid-page
    workers.start("second")  # at once
    last_beat = fresh_run(run.id).heartbeat_at
    wait_for(lambda: "Listening on" in workers.log("second"), 30, "the new worker to listen")
    # It started while the run was not stale yet: only its periodic look can resume it (on
    # main that was RQ's scheduler, whose lock the killed worker held: minutes later).
    assert utcnow() - last_beat < timedelta(seconds=STALE), "started too slowly for this test"
    assert fresh_run(run.id).status == "running"

    wait_for(lambda: fresh_run(run.id).trigger == "resume", STALE + 20, "the run resumed")
    assert utcnow() - last_beat < timedelta(seconds=STALE + 5)  # seconds after going stale
    wait_for(lambda: fresh_run(run.id).status in SyncRun.FINISHED, 60, "the resumed run")
    final = fresh_run(run.id)
    assert final.status == "succeeded", final.error_message
    assert (final.progress_done, final.attempts) == (60, 2)
    calm_run = service.request_sync(other_workspace.id, calm.id)
    assert engine.execute(calm_run.id, job_id=calm_run.job_id) == "succeeded"
    assert content(workspace.id) == content(other_workspace.id)  # nothing lost or doubled


def statuses() -> dict[str, str]:
    db.session.rollback()
    return {r.delivery_id: r.status for r in db.session.scalars(select(WebhookDelivery))}


def runs_of(connection_id: int) -> list[tuple[str, str]]:
    db.session.rollback()
    query = select(SyncRun).where(SyncRun.connection_id == connection_id).order_by(SyncRun.id)
    return [(r.trigger, r.status) for r in db.session.scalars(query)]


def signed_push(url: str, shop: Connection, delivery: str) -> str:
    body = json.dumps(order_payload(f"T-{delivery}")).encode()
    headers = {"X-Fake-Signature": sign(SECRET, body), "X-Fake-Delivery": delivery}
    return requests.post(f"{url}/webhooks/fakepush/{shop.id}", data=body, headers=headers,
                         timeout=30).text  # fmt: skip


def sign_in(browser: requests.Session, url: str, password: str) -> int:
    token = csrf_token(browser.get(f"{url}/login", timeout=30).text)
    form = {"email": "admin@acme.test", "password": password, "csrf_token": token}
    return browser.post(f"{url}/login", data=form, allow_redirects=False, timeout=30).status_code


@pytest.fixture
def stores(workspace, tmp_path) -> SimpleNamespace:
    data = tmp_path / "orders.json"
    write_orders(data, make_orders(20, start=utcnow() - timedelta(days=2)))
    return SimpleNamespace(
        auto=add_connection(
            workspace.id, data, store="auto", sync_mode="auto", sync_interval_minutes=30
        ),
        manual=add_connection(workspace.id, data, store="manual"),
        by_hand=add_connection(workspace.id, data, store="by hand"),
        from_cli=add_connection(workspace.id, data, store="from the CLI"),
        shop=connections.bind(
            workspace.id, "fakepush", {"store_id": "8001", "webhook_secret": SECRET}
        ),
    )


def test_b_a_worker_rides_out_a_redis_outage(workspace, own_redis, workers, stores):
    """The web app (gunicorn) and a worker (hub worker) while their Redis stops and comes back
    empty: pushes are stored; the worker stays up, says so once, and then processes the
    pushes and runs the next auto-sync (its schedule is not lost with Redis's data)."""
    url = workers.serve("web")
    worker = workers.start("worker")
    auto = stores.auto
    wait_for(lambda: runs_of(auto.id) == [("auto", "succeeded")], 30, "the first auto-sync")

    own_redis.stop()
    assert [signed_push(url, stores.shop, f"d-{n}") for n in range(5)] == [ACK] * 5
    db.session.get(Connection, auto.id).last_sync_at = utcnow() - timedelta(minutes=31)
    db.session.commit()  # the auto store is due again
    time.sleep(3)  # a few passes of its maintenance and of its RQ loop without Redis
    assert worker.poll() is None, workers.log("worker")[-3000:]
    assert set(statuses().values()) == {"received"}

    own_redis.start()  # empty: nothing of the queues, the worker's keys or the schedule is left
    wait_for(lambda: set(statuses().values()) == {"processed"}, 40, "every stored delivery")
    wait_for(lambda: runs_of(auto.id)[1:] == [("auto", "succeeded")], 40, "the next auto-sync")
    assert len(statuses()) == 5 and worker.poll() is None  # the same process all along
    log = workers.log("worker")
    assert (log.count("is unavailable"), log.count("is back")) == (1, 1), log
    assert "Traceback" not in log and "unhandled exception" not in log, log
    assert "Traceback" not in workers.log("web"), workers.log("web")


def test_c_sign_in_works_and_sync_now_is_kept_while_redis_is_down(
    workspace, own_redis, workers, stores, runner
):
    """While Redis is down, sign-in works; sync now, from the API, the UI and the CLI, and an
    import from the API say the queue is unavailable (503 / a message / exit 1) and keep the
    request, which runs once Redis is back."""
    make_user(workspace, "admin@acme.test")
    auth = {"Authorization": f"Bearer {tokens.create_token(workspace.id, 'ops')[1]}"}
    manual, by_hand = stores.manual, stores.by_hand
    url = workers.serve("web")
    workers.start("worker")

    own_redis.stop()
    answer = requests.post(f"{url}/api/v1/connections/{manual.id}/sync", headers=auth,
                           timeout=30)  # fmt: skip
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "queue_unavailable" and "when the queue is back" in error["message"]
    assert runs_of(manual.id) == [("api", "queued")]  # the request is kept
    csv = "name,mobile\n王芳,13800139000\n".encode()
    answer = requests.post(f"{url}/api/v1/imports", headers=auth, timeout=30,
                           data={"kind": "customers"}, files={"file": ("c.csv", csv)})  # fmt: skip
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "queue_unavailable" and "when the queue is back" in error["message"]
    import_id = error["import_id"]
    assert import_status(import_id) == "queued"  # the import is kept too
    browser = requests.Session()
    assert sign_in(browser, url, "wrong password") == 401
    assert sign_in(browser, url, PASSWORD) == 302  # signed in, Redis or not
    store_page = browser.get(f"{url}/stores/{by_hand.id}", timeout=30)
    page = browser.post(f"{url}/stores/{by_hand.id}/sync", timeout=30,
                        data={"csrf_token": csrf_token(store_page.text)})  # fmt: skip
    assert page.status_code == 200, page.text
    assert "The queue is unavailable; the sync will start when it is back." in page.text
    assert runs_of(by_hand.id) == [("manual", "queued")]
    assert "Traceback" not in workers.log("web"), workers.log("web")
    command = runner.invoke(args=["hub", "sync", str(stores.from_cli.id), "--json"])
    assert command.exit_code == 1 and "queue_unavailable" in command.output, command.output
    assert runs_of(stores.from_cli.id) == [("manual", "queued")]

    own_redis.start()  # empty
    wait_for(lambda: runs_of(manual.id) == [("api", "succeeded")], 40, "the kept API request")
    wait_for(lambda: runs_of(by_hand.id) == [("manual", "succeeded")], 40, "the UI's request")
    wait_for(lambda: runs_of(stores.from_cli.id) == [("manual", "succeeded")], 40, "the CLI's")
    wait_for(lambda: import_status(import_id) == "succeeded", 40, "the kept import")
