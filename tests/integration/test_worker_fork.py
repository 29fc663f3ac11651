"""Each job of a real `hub worker` runs in a forked work horse on database connections of its
own: the worker's start-up (stale runs, the tick) leaves no transaction, and so no connection,
that every horse would inherit and share (on PostgreSQL the second horse failed with
"prepared statement _pg3_0 already exists": every webhook delivery of a worker started while
a sync was active failed that way in the soak test of issue 20)."""

from __future__ import annotations

import pytest
from rq.job import Job

from hub.extensions import redis_connection
from hub.jobs.queues import WEBHOOKS, queue
from tests.conftest import ENCRYPTION_KEY
from tests.integration.test_cli_process import clean_env
from tests.support.served import HUB, Processes, wait_for

pytestmark = pytest.mark.slow


def test_work_horses_do_not_share_the_workers_connection(
    app, workspace, database_url, redis_url, tmp_path
) -> None:
    env = clean_env(
        HUB_DATABASE_URL=database_url, HUB_REDIS_URL=redis_url, HUB_SECRET_KEY="test-secret-key",
        HUB_ENCRYPTION_KEY=ENCRYPTION_KEY, HUB_AUTOSYNC_TICK_SECONDS="3600",
    )  # fmt: skip
    jobs = [queue(WEBHOOKS).enqueue("tests.support.jobs.probe_session") for _ in range(3)]
    connection = redis_connection(app)
    procs = Processes(env, tmp_path)
    try:
        procs.start("worker", [HUB, "worker", "--queues", WEBHOOKS])
        wait_for(
            lambda: all(job.get_status(refresh=True) in ("finished", "failed") for job in jobs),
            60, "the three jobs",
        )  # fmt: skip
    finally:
        procs.stop_all()
    outcomes = [Job.fetch(job.id, connection=connection) for job in jobs]
    failures = [job.latest_result().exc_string for job in outcomes if job.is_failed]
    assert not failures, failures[0][-600:]
    assert [job.return_value() for job in outcomes] == [{"inherited_transaction": False}] * 3
