"""Sign-in (issue 20 points 4 and 9, issue 22 point 8, issue 21 point 6): one sign-in path whose
time does not tell known e-mails from unknown ones; throttling in the database, per account with
exponential backoff and per client address far above one person's typos, the proxy's client
address believed only when configured; sign-in works while Redis is down."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hub import create_app
from hub.extensions import db
from hub.models import SignInThrottle, utcnow
from hub.services import throttle
from tests.support.ui import PASSWORD, browser, make_user

ATTEMPTS = 7


def attempt(client, email: str, password: str = PASSWORD, address: str = "127.0.0.1", **headers):
    """POST /login from the client address ``address``."""
    data = {"email": email, "password": password}
    return client.post("/login", data=data, headers=headers, environ_base={"REMOTE_ADDR": address})


@pytest.mark.real_password_hashes
def test_login_time_does_not_tell_known_emails_from_unknown_ones(client, workspace):
    """Medians of several attempts, each from its own address and for its own account so no
    lock shortens any of them: an unknown e-mail costs a password hash like a known one."""
    known = [make_user(workspace, f"user{n}@acme.test").email for n in range(ATTEMPTS)]
    attempt(client, "warm-up@nowhere.test", "wrong password", "10.0.9.9")

    def timed(email: str, n: int) -> float:
        started = time.perf_counter()
        response = attempt(client, email, "wrong password", f"10.0.{n % 2}.{n}")
        assert response.status_code == 401
        return time.perf_counter() - started

    pairs = [(timed(email, n), timed(f"ghost{n}@acme.test", n)) for n, email in enumerate(known)]
    known_times, unknown_times = zip(*pairs, strict=True)  # interleaved: drift hits both
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    print(f"\nmedian sign-in: known {known_median:.3f} s, unknown {unknown_median:.3f} s")
    assert 0.5 < unknown_median / known_median < 2, (known_median, unknown_median)


def test_one_users_typos_never_lock_another_user_on_the_same_address(workspace):
    from flask import current_app

    make_user(workspace, "typo@acme.test")
    make_user(workspace, "colleague@acme.test")
    typist, colleague = browser(current_app), browser(current_app)
    for _ in range(12):
        assert attempt(typist, "typo@acme.test", "wrong password").status_code in (401, 429)
    assert attempt(typist, "typo@acme.test").status_code == 429  # that account is locked
    assert attempt(colleague, "colleague@acme.test").status_code == 302


def test_account_lock_after_five_failures_then_success_clears_it(client, workspace):
    make_user(workspace, "ann@acme.test")
    for _ in range(4):
        assert attempt(client, "ann@acme.test", "wrong password").status_code == 401
    assert attempt(client, "ann@acme.test", "wrong password").status_code == 401
    locked = attempt(client, "ann@acme.test")  # the right password, but locked
    assert locked.status_code == 429
    assert b"Wait 1 minute and try again" in locked.data
    _lift_locks()
    assert attempt(client, "ann@acme.test").status_code == 302
    assert (
        db.session.scalar(select(SignInThrottle).where(SignInThrottle.scope == "account")) is None
    )


def test_account_lock_doubles_with_each_further_failure_up_to_an_hour(app):
    now = utcnow()
    locks = []
    for _ in range(12):
        throttle.record_failure("ann@acme.test", "10.1.1.1", now=now)
        wait = throttle.locked_for("ann@acme.test", None, now=now)
        locks.append(None if wait is None else wait / timedelta(minutes=1))
        now += wait or timedelta(seconds=5)  # try again as soon as the lock allows
    assert locks == [None, None, None, None, 1, 2, 4, 8, 16, 32, 60, 60]
    later = now + throttle.ACCOUNT_MEMORY + timedelta(minutes=1)
    throttle.record_failure("ann@acme.test", "10.1.1.1", now=later)  # a day later: counted anew
    assert throttle.locked_for("ann@acme.test", None, now=later) is None


def test_unknown_emails_lock_like_known_ones(client, workspace):
    make_user(workspace, "real@acme.test")
    answers = {}
    for email in ("real@acme.test", "ghost@acme.test"):
        answers[email] = [attempt(client, email, "wrong password").status_code for _ in range(6)]
    assert answers["real@acme.test"] == answers["ghost@acme.test"] == [401] * 5 + [429]


def test_address_limit_is_far_above_typos_and_locks_that_address_only(client, workspace):
    make_user(workspace, "ann@acme.test")
    for n in range(throttle.ADDRESS_FAILURES - 1):
        throttle.record_failure(f"guess{n}@acme.test", "198.51.100.7")
    assert attempt(client, "ann@acme.test", address="198.51.100.7").status_code == 302
    client.post("/logout")
    assert attempt(client, "guess@acme.test", "wrong", "198.51.100.7").status_code == 401
    refused = attempt(client, "ann@acme.test", address="198.51.100.7")
    assert refused.status_code == 429 and b"Wait 15 minutes" in refused.data
    assert attempt(client, "ann@acme.test", address="198.51.100.8").status_code == 302


def test_forwarded_for_is_ignored_without_trusted_proxies(client, workspace):
    make_user(workspace, "ann@acme.test")
    _lock_address("203.0.113.7")
    forged = {"X-Forwarded-For": "192.0.2.1"}
    assert attempt(client, "ann@acme.test", PASSWORD, "203.0.113.7", **forged).status_code == 429


def test_forwarded_for_is_believed_with_trusted_proxies(app_config, workspace):
    make_user(workspace, "ann@acme.test")
    _lock_address("203.0.113.7")
    proxied = create_app({**app_config, "TRUSTED_PROXIES": 1})
    with proxied.app_context():
        client = proxied.test_client()
        chain = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}  # the proxy appended the client
        assert attempt(client, "ann@acme.test", PASSWORD, "10.0.0.2", **chain).status_code == 429
        chain = {"X-Forwarded-For": "203.0.113.7, 203.0.113.8"}  # a forged first entry
        assert attempt(client, "ann@acme.test", PASSWORD, "10.0.0.2", **chain).status_code == 302


def test_trusted_proxies_must_be_a_count(app_config):
    from hub.config import ConfigError

    for value in ("yes", -1, True):
        with pytest.raises(ConfigError, match="HUB_TRUSTED_PROXIES"):
            create_app({**app_config, "TRUSTED_PROXIES": value})


def test_sign_in_works_while_redis_is_down(app_config, workspace):
    make_user(workspace, "ann@acme.test")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    with down.app_context():
        client = down.test_client()
        assert client.get("/login").status_code == 200
        assert attempt(client, "ann@acme.test", "wrong password").status_code == 401
        response = attempt(client, "ann@acme.test")
        assert response.status_code == 302
        assert client.get("/customers").status_code == 200


def _lock_address(address: str) -> None:
    for n in range(throttle.ADDRESS_FAILURES):
        throttle.record_failure(f"guess{n}@acme.test", address)


def _lift_locks() -> None:
    """As if the locks had run out."""
    db.session.execute(update(SignInThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_concurrent_failures_are_all_counted(app):
    """Eight threads, each with its own connection, fail at once for one account and one
    address (the first failure's row raced for): not one failure is lost."""
    barrier = threading.Barrier(8)

    def fail() -> None:
        with app.app_context():
            barrier.wait()
            throttle.record_failure("ann@acme.test", "10.9.9.9")
            db.session.remove()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    counts = db.session.execute(select(SignInThrottle.scope, SignInThrottle.failures)).all()
    assert sorted(counts) == [("account", 8), ("address", 8)]
