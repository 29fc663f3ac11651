"""Delivery of the outbound webhook outbox (A1), on the worker side.

A delivery is sent by whoever claims it: ``claim`` moves one due row (``pending`` whose
``next_attempt_at`` has come, or ``delivering`` whose claim has expired) to ``delivering``
until ``now + HUB_WEBHOOK_CLAIM_SECONDS`` in one conditional UPDATE, so two workers never send
one delivery at the same time, and a worker killed mid-delivery only delays it until the claim
expires (at least once: the receiver deduplicates on ``webhook-id``).

Who triggers it: after the enqueuing transaction commits, a ``deliver_due_job`` is queued (the
fast path); it sends ``HUB_WEBHOOK_CONCURRENCY`` deliveries at once (threads for the HTTP
only). Whatever that misses (Redis down, a crash between commit and queueing, a retry whose
time has come) the workers' maintenance pass finds and queues (``dispatch_due``).

Outcome of an attempt: 2xx delivered; 410 Gone disables the target (no more deliveries to that
URL in the workspace; its pending ones become ``disabled``); anything else (3xx, 4xx, 5xx, a
timeout, a refused connection or address) is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
14 h (±10% jitter), or after the receiver's ``Retry-After`` (seconds or an HTTP date, at most a
day) when it gives one; the eighth failure leaves it ``failed``. The body and webhook-id never
change between attempts; the timestamp and signature are those of each attempt.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask import current_app, has_app_context
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from hub.automation import outbox
from hub.automation.egress import EgressRefused, WebhookPolicy
from hub.core.errors import Conflict, NotFound
from hub.crypto import DecryptionError
from hub.extensions import db, redis_connection
from hub.jobs.queues import REDIS_DOWN
from hub.models import OutboxAttempt, OutboxDelivery, OutboxDisabledTarget, utcnow
from hub.sync.egress import GuardedAdapter

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, … failed attempt; after the last, the delivery fails.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.1
MAX_RETRY_AFTER = 86400
EXCERPT = 500  # characters of a response kept in the attempt log
JOB_BUDGET_SECONDS = 120  # a delivery job hands what is left to a new job after this
BATCH = 50
CONCURRENCY = 8  # deliveries sent at once by one job (HUB_WEBHOOK_CONCURRENCY)

_T = OutboxDelivery.__table__


def _config(key: str, default: Any) -> Any:
    return current_app.config.get(key, default) if has_app_context() else default


def _due(now: datetime) -> Any:
    return or_(
        and_(_T.c.status == "pending", _T.c.next_attempt_at <= now),
        and_(_T.c.status == "delivering", _T.c.claimed_until < now),
    )


# --- triggering ----------------------------------------------------------------------------


def dispatch_due(now: datetime | None = None) -> bool:
    """The maintenance pass: queue a delivery job if any delivery is due (or its claim lapsed)."""
    now = now or utcnow()
    if db.session.scalar(select(exists().where(_due(now)))):
        outbox.kick(unless_queued=True)
        return True
    return False


def deliver_due_job() -> int:
    """The RQ job: deliver what is due, within a time budget."""
    from hub.jobs.context import app_context

    with app_context():
        try:
            return deliver_due(budget=JOB_BUDGET_SECONDS)
        finally:
            db.session.remove()
            with contextlib.suppress(*REDIS_DOWN):
                redis_connection().delete(outbox.QUEUED_KEY)


def deliver_due(now: datetime | None = None, budget: float | None = None) -> int:
    """Claim and send every due delivery, ``HUB_WEBHOOK_CONCURRENCY`` at a time (the HTTP in
    threads, the database in this one); how many were attempted. ``now`` (for tests) stands
    for the clock; with a ``budget`` in seconds, what is left goes to a new job. Claims are
    taken group by group, so none is held longer than one group's sending."""
    started = time.monotonic()
    width = max(1, int(_config("WEBHOOK_CONCURRENCY", CONCURRENCY)))
    settings = _send_settings()
    done = 0
    seen: set[int] = set()
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="hub-webhook") as pool:
        while True:
            at = now or utcnow()
            ids = db.session.scalars(
                select(_T.c.id).where(_due(at)).order_by(_T.c.next_attempt_at, _T.c.id).limit(BATCH)
            ).all()
            db.session.rollback()
            ids = [i for i in ids if i not in seen]
            if not ids:
                return done
            for start in range(0, len(ids), width):
                group = ids[start : start + width]
                seen.update(group)
                ready = [p for p in (prepare(i, now=now) for i in group) if p is not None]
                done += len(ready)
                sending = [p for p in ready if isinstance(p, Prepared)]
                results = pool.map(lambda p: send(p.url, p.secret, p.msg_id, p.body, **settings),
                                   sending)  # fmt: skip
                for prepared, result in zip(sending, results, strict=True):
                    record(prepared, result, now=now)
                if budget is not None and time.monotonic() - started > budget:
                    outbox.kick()
                    return done


# --- one attempt -----------------------------------------------------------------------------


def claim(delivery_id: int, now: datetime, *, manual: bool = False) -> str | None:
    """Take the delivery for one attempt (committed); the claim's token, or None if it is not
    due or another worker holds it. ``manual``: any state but a live claim."""
    token = uuid.uuid4().hex
    hold = timedelta(seconds=float(_config("WEBHOOK_CLAIM_SECONDS", 60)))
    live = and_(_T.c.status == "delivering", _T.c.claimed_until >= now)
    condition = ~live if manual else _due(now)
    result = db.session.execute(
        update(_T)
        .where(_T.c.id == delivery_id, condition)
        .values(
            status="delivering",
            claimed_until=now + hold,
            claim_token=token,
            attempts=_T.c.attempts + 1,
        )
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


class Prepared:
    """A claimed delivery, read and ready to send."""

    def __init__(self, row: OutboxDelivery, token: str, secret: str, at: datetime,
                 before: str | None, manual: bool) -> None:  # fmt: skip
        self.id, self.token, self.secret, self.at = row.id, token, secret, at
        self.url, self.body, self.msg_id = row.url, row.body, row.msg_id
        self.attempts, self.workspace_id = row.attempts, row.workspace_id
        self.before, self.manual = before, manual


def prepare(
    delivery_id: int, *, now: datetime | None = None, manual: bool = False
) -> Prepared | str | None:
    """Claim the delivery and read what sending needs: Prepared; a status when it was settled
    without sending (its target disabled, its secret unreadable, a crash loop); None when it
    could not be claimed. No transaction is left open."""
    at = now or utcnow()
    before = db.session.scalar(select(_T.c.status).where(_T.c.id == delivery_id))
    token = claim(delivery_id, at, manual=manual)
    if token is None:
        return None
    row = db.session.get(OutboxDelivery, delivery_id)
    assert row is not None
    if _target_disabled(db.session, row.workspace_id, row.url):
        _finish(delivery_id, token, {"status": "disabled", "claimed_until": None})
        return "disabled"
    try:
        secret = outbox.decrypt_secret(row.secret_enc)
    except DecryptionError:
        error = "the webhook secret cannot be decrypted with HUB_ENCRYPTION_KEY; not sent"
        _finish(
            delivery_id, token, {"status": "failed", "claimed_until": None, "last_error": error}
        )
        return "failed"
    if not manual and row.attempts > MAX_ATTEMPTS:  # claimed again and again by dying workers
        error = f"gave up after {row.attempts - 1} attempts (workers stopped while sending)"
        _finish(
            delivery_id, token, {"status": "failed", "claimed_until": None, "last_error": error}
        )
        return "failed"
    prepared = Prepared(row, token, secret, at, before, manual)
    db.session.rollback()  # no transaction held while the receiver answers
    return prepared


def record(p: Prepared, result: SendResult, *, now: datetime | None = None) -> str:
    """Log the attempt and settle the delivery (committed); its status."""
    sent_at = now or utcnow()
    db.session.add(
        OutboxAttempt(
            delivery_id=p.id,
            attempted_at=p.at,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error,
            response_excerpt=result.excerpt,
            manual=p.manual,
        )
    )
    values: dict[str, Any] = {
        "last_status_code": result.status_code,
        "last_error": result.error,
        "claimed_until": None,
    }
    if result.status_code is not None and 200 <= result.status_code < 300:
        values.update(status="delivered", delivered_at=sent_at, last_error=None)
    elif result.status_code == 410:
        values["status"] = "disabled"
        disable_target(db.session, p.workspace_id, p.url, reason=f"{p.url} answered 410 Gone")
    elif p.manual and p.before in ("delivered", "failed", "disabled"):
        values["status"] = "failed"  # a redelivery asked for by hand is not retried by itself
    elif p.attempts >= MAX_ATTEMPTS:
        values["status"] = "failed"
    else:
        values.update(status="pending", next_attempt_at=sent_at + retry_delay(p.attempts, result))
    _finish(p.id, p.token, values)
    return str(values["status"])


def attempt(delivery_id: int, *, now: datetime | None = None, manual: bool = False) -> str | None:
    """Claim, send and record one attempt; the delivery's status after it, or None when it
    could not be claimed."""
    prepared = prepare(delivery_id, now=now, manual=manual)
    if not isinstance(prepared, Prepared):
        return prepared
    return record(prepared, send(prepared.url, prepared.secret, prepared.msg_id, prepared.body,
                                 **_send_settings()), now=now)  # fmt: skip


def _finish(delivery_id: int, token: str, values: dict[str, Any]) -> None:
    """Record the outcome if the claim is still ours (else another worker took the delivery
    over after the claim expired: its outcome stands)."""
    db.session.execute(
        update(_T).where(_T.c.id == delivery_id, _T.c.claim_token == token).values(**values)
    )
    db.session.commit()


def retry_delay(attempts: int, result: SendResult) -> timedelta:
    """The receiver's Retry-After when it gave one (at most a day), else the schedule's delay
    after ``attempts`` failures, with ±10% jitter."""
    if result.retry_after is not None:
        return timedelta(seconds=min(max(result.retry_after, 0.0), MAX_RETRY_AFTER))
    base = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]
    return timedelta(seconds=base * (1 + random.uniform(-JITTER, JITTER)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP date; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - (now or utcnow())).total_seconds(), 0.0)
    return None


# --- HTTP ------------------------------------------------------------------------------------


class SendResult:
    def __init__(
        self,
        status_code: int | None = None,
        error: str | None = None,
        excerpt: str | None = None,
        duration_ms: int = 0,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.excerpt = excerpt
        self.duration_ms = duration_ms
        self.retry_after = retry_after


def http_session(allow_private: bool) -> requests.Session:
    """A requests session whose every connection is checked (and pinned) by the webhook
    egress rule; proxies from the environment are not used."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(WebhookPolicy(allow_private=allow_private))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _send_settings() -> dict[str, Any]:
    """What ``send`` reads from the app's configuration, read once (threads have no app)."""
    return {
        "timeout": float(_config("WEBHOOK_TIMEOUT_SECONDS", 10)),
        "allow_private": outbox.allow_private(),
    }


def send(
    url: str, secret: str, msg_id: str, body: str, *, timeout: float, allow_private: bool
) -> SendResult:
    """POST ``body`` signed for this attempt; never raises for the receiver's faults."""
    timestamp = int(time.time())
    started = time.monotonic()
    http = http_session(allow_private)
    try:
        answer = http.post(
            url,
            data=body.encode(),
            headers=outbox.headers(secret, msg_id, timestamp, body),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            raw = answer.raw.read(EXCERPT * 4, decode_content=True) or b""
        except Exception:  # noqa: BLE001 - a broken body does not change the status code
            raw = b""
        finally:
            answer.close()
        code = answer.status_code
        error = None if 200 <= code < 300 else f"HTTP {code}"
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed"
        retry_after = (
            parse_retry_after(answer.headers.get("Retry-After"))
            if code not in range(200, 300)
            else None
        )
        return SendResult(
            code,
            error,
            raw.decode("utf-8", "replace")[:EXCERPT],
            _ms(started),
            retry_after,
        )
    except EgressRefused as exc:
        return SendResult(error=str(exc), duration_ms=_ms(started))
    except requests.Timeout:
        return SendResult(error=f"no answer within {timeout:g} s", duration_ms=_ms(started))
    except requests.RequestException as exc:
        cause = exc.__context__ if isinstance(exc.__context__, EgressRefused) else None
        text = str(cause) if cause else f"{type(exc).__name__}: {exc}"
        return SendResult(error=text[:EXCERPT], duration_ms=_ms(started))
    finally:
        http.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- targets and redelivery -----------------------------------------------------------------


def _target_disabled(session: Session, workspace_id: int, url: str) -> bool:
    table = OutboxDisabledTarget.__table__
    query = select(table.c.id).where(table.c.workspace_id == workspace_id, table.c.url == url)
    return session.scalar(query) is not None


def disable_target(session: Session, workspace_id: int, url: str, *, reason: str) -> None:
    """No more deliveries to ``url`` in the workspace: its pending ones become disabled."""
    if not _target_disabled(session, workspace_id, url):
        session.add(OutboxDisabledTarget(workspace_id=workspace_id, url=url, reason=reason))
    session.execute(
        update(_T)
        .where(_T.c.workspace_id == workspace_id, _T.c.url == url, _T.c.status == "pending")
        .values(status="disabled", last_error=reason)
    )


def enable_target(session: Session, workspace_id: int, url: str) -> int:
    """The admin enables ``url`` again: deliveries to it are sent from now on (the disabled
    ones by a redelivery). How many disabled targets were removed (0 or 1)."""
    table = OutboxDisabledTarget.__table__
    result = session.execute(
        table.delete().where(table.c.workspace_id == workspace_id, table.c.url == url)
    )
    return int(result.rowcount or 0)


def redeliver(workspace_id: int, delivery_id: int) -> OutboxDelivery:
    """A new attempt now, with the same webhook-id and body (the admin's redelivery)."""
    row = db.session.scalar(
        select(OutboxDelivery).where(
            OutboxDelivery.id == delivery_id, OutboxDelivery.workspace_id == workspace_id
        )
    )
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    if _target_disabled(db.session, workspace_id, row.url):
        raise Conflict(
            f"the target {row.url} is disabled (it answered 410 Gone); enable it before "
            "redelivering"
        )
    db.session.rollback()
    if attempt(delivery_id, manual=True) is None:
        raise Conflict(f"webhook delivery {delivery_id} is being delivered right now")
    row = db.session.get(OutboxDelivery, delivery_id)
    assert row is not None
    return row
