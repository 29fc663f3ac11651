"""Sign-in throttling, in the database (sign-in must not depend on Redis).

Per account (the e-mail typed, known or not, so a lock tells nothing about who exists): after
5 failures in a row the account is locked for 1 minute, each further failure doubles the lock,
up to an hour; a success, or a day without failures, starts the count again. Per client
address: 100 failures in 15 minutes lock that address until the 15 minutes are over, which is
far above one person's typos, so one user's mistakes never lock out others behind the same
address.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, case, delete, select, update
from sqlalchemy.exc import IntegrityError

from hub.extensions import db
from hub.models import SignInThrottle, utcnow

ACCOUNT, ADDRESS = "account", "address"
ACCOUNT_FREE_FAILURES = 5
ACCOUNT_FIRST_LOCK = timedelta(minutes=1)
ACCOUNT_MAX_LOCK = timedelta(hours=1)
ACCOUNT_MEMORY = timedelta(days=1)
ADDRESS_FAILURES = 100
ADDRESS_WINDOW = timedelta(minutes=15)


def locked_for(email: str, address: str | None, now: datetime | None = None) -> timedelta | None:
    """How long sign-in stays locked for this e-mail or address (the longer), else None."""
    now = now or utcnow()
    until = db.session.scalar(
        select(SignInThrottle.locked_until)
        .where(_keys(email, address), SignInThrottle.locked_until > now)
        .order_by(SignInThrottle.locked_until.desc())
        .limit(1)
    )
    return until - now if until is not None else None


def record_failure(email: str, address: str | None, now: datetime | None = None) -> None:
    """Count a failed sign-in against the account and the address, locking what is over."""
    now = now or utcnow()
    failures, _start = _count(ACCOUNT, email, now, forget_before=now - ACCOUNT_MEMORY)
    if (lock := account_lock(failures)) is not None:
        _lock(ACCOUNT, email, now + lock)
    if address:
        failures, start = _count(ADDRESS, address, now, forget_before=now - ADDRESS_WINDOW)
        if failures >= ADDRESS_FAILURES:
            _lock(ADDRESS, address, start + ADDRESS_WINDOW)
    forgotten = SignInThrottle.last_failure_at < now - ACCOUNT_MEMORY
    db.session.execute(delete(SignInThrottle).where(forgotten))
    db.session.commit()


def record_success(email: str) -> None:
    """A successful sign-in clears the account's count (the address's window runs on)."""
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.scope == ACCOUNT, SignInThrottle.key == email)
    )
    db.session.commit()


def account_lock(failures: int) -> timedelta | None:
    """The lock after ``failures`` failures in a row: none, then 1 minute doubling to an hour."""
    if failures < ACCOUNT_FREE_FAILURES:
        return None
    doublings = min(failures - ACCOUNT_FREE_FAILURES, 12)
    return min(ACCOUNT_FIRST_LOCK * 2**doublings, ACCOUNT_MAX_LOCK)


def _keys(email: str, address: str | None) -> ColumnElement[bool]:
    account = (SignInThrottle.scope == ACCOUNT) & (SignInThrottle.key == email)
    if not address:
        return account
    return account | ((SignInThrottle.scope == ADDRESS) & (SignInThrottle.key == address))


def _count(scope: str, key: str, now: datetime, forget_before: datetime) -> tuple[int, datetime]:
    """Add one failure to (scope, key); returns the count and the start of its window. The
    first statement is the UPDATE (it takes the write lock), so concurrent failures are all
    counted; an account's count restarts after a day without failures, an address's when its
    window has passed."""
    row = _increment(scope, key, now, forget_before)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SignInThrottle(scope=scope, key=key, failures=1,
                                              window_start=now, last_failure_at=now))  # fmt: skip
            return 1, now
        except IntegrityError:  # a concurrent first failure inserted it
            row = _increment(scope, key, now, forget_before)
    assert row is not None
    return int(row.failures), row.window_start


def _increment(scope: str, key: str, now: datetime, forget_before: datetime) -> Row[Any] | None:
    t = SignInThrottle
    stale = (t.window_start if scope == ADDRESS else t.last_failure_at) < forget_before
    statement = (
        update(t)
        .where(t.scope == scope, t.key == key)
        .values(
            failures=case((stale, 1), else_=t.failures + 1),
            window_start=case((stale, now), else_=t.window_start),
            last_failure_at=now,
        )
        .returning(t.failures, t.window_start)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).first()


def _lock(scope: str, key: str, until: datetime) -> None:
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.scope == scope, SignInThrottle.key == key)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
