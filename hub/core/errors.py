"""Typed errors. Each carries the class the sync engine records: configuration|transient|system."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the hub's own errors."""

    error_class = "system"


class ConfigError(HubError):
    """Wrong credentials, revoked authorization, missing permission: the admin must act."""

    error_class = "configuration"


class AuthError(ConfigError):
    """Credentials rejected by the platform."""


class CredentialsRevoked(AuthError):
    """The platform told the hub (a webhook such as Shopify's app/uninstalled) that the store's
    credentials are gone: the store shows the error until it is bound again."""


class PermissionDenied(AuthError):
    """The platform refused one API for lack of permission (the app was granted only part of
    the API, e.g. Youzan 4204): the credentials are good. A call the connector can do without
    degrades and is reported; one it cannot (reading orders) fails as a configuration error."""


class TokenExpired(HubError):
    """An access token expired or vanished; refresh it and try again."""

    error_class = "transient"


class TransientError(HubError):
    """A passing fault (5xx, timeout, connection reset). Retry with backoff."""

    error_class = "transient"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The platform throttled us; ``retry_after`` seconds if it said so."""


class PlatformUnreachable(TransientError):
    """A platform's address gave no answer: the connection was refused or failed, or no answer
    came in the time allowed (``timed_out``). ``host`` is the host (and port) called."""

    def __init__(self, message: str, *, host: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.host = host
        self.timed_out = timed_out


class NotPlatformApi(ConfigError):
    """An address answered, but not as the platform's API does (not JSON, not its envelope)."""

    def __init__(self, message: str, *, host: str) -> None:
        super().__init__(message)
        self.host = host


class StoreApiFailed(HubError):
    """A platform call made while a person waits (a bind, new credentials) failed at the
    store's address. ``message`` % ``params`` is plain and marked for translation; ``field``
    names the setting that holds the address, if the connector has one."""

    error_class = "configuration"

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message % params)
        self.message = message
        self.params = params
        self.field = field


class StoreApiTimeout(StoreApiFailed):
    """No answer within the time a person is made to wait (a gateway timeout: 504)."""


class StoreApiUnreachable(StoreApiFailed):
    """The address refused the connection or could not be reached (a bad gateway: 502)."""


class StoreApiNotApi(StoreApiFailed):
    """The address answered something that is not the platform's API (a bad gateway: 502)."""


class ValidationFailed(HubError):
    """Input that cannot be taken, naming the row, field or header at fault."""

    error_class = "configuration"

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Mark ``message`` for extraction (``pybabel -k N_``); the web layer translates it."""
    return message


class Refused(ValidationFailed):
    """Input refused, in words for the user: ``message % params`` is the English text,
    ``message`` the msgid the web layer translates (``hub.web.admin.common.error_text``), with
    the ``label`` parameter (a field's label, marked with ``N_``) translated as well."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message % params if params else message, field=field)
        self.message, self.params = message, params


class ShipmentRefused(Refused):
    """A shipment the shop refused, or that the hub knows it would refuse (W8), in words for
    the user. ``code`` is one of SHIPMENT_REFUSALS, for programs (``error.code`` in the API)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.code = code


# already_shipped: nothing left to ship on the shop; after_sale: an item is in an after-sale
# case; not_shippable: the order's state does not allow it (unpaid, cancelled, completed);
# unbound: its store is no longer bound (W1); no_shipping: its source cannot ship; carrier /
# waybill: the carrier is not the platform's, the waybill is malformed; not_found: no such order.
SHIPMENT_REFUSALS = (
    "already_shipped",
    "after_sale",
    "not_shippable",
    "unbound",
    "no_shipping",
    "carrier",
    "waybill",
    "not_found",
)


class InvalidRecord(ValidationFailed, TypeError):
    """A canonical record that breaks the contract of ``hub.core.records`` (a naive time, a
    float amount, an unknown status, an empty id), naming the record and the field. It is a
    mistake of the code that built the record, so it is a system error: the run fails with
    this message, nothing of its batch is written and nothing is retried."""

    error_class = "system"


class AlreadyBound(HubError):
    """A store is bound to at most one workspace at a time (Y1)."""

    error_class = "configuration"


class NotFound(HubError):
    """The object does not exist in this workspace."""


class Conflict(HubError):
    """The request conflicts with the current state (e.g. a sync while disabled)."""


class MigrationRunning(Conflict):
    """Refused while a migration of the store runs (W3): its rules cannot change and it cannot
    be unbound (API: 409 "migration_running")."""

    code = "migration_running"


class QueueUnavailable(HubError):
    """The queue (Redis) cannot be reached. What was asked is kept in the database and handed
    to the queue when it is back; ``run_ids`` names the sync runs that wait for it,
    ``import_id`` the import run."""

    error_class = "transient"

    def __init__(
        self, message: str, *, run_ids: list[int] | None = None, import_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.run_ids = run_ids or []
        self.import_id = import_id


def classify(exc: BaseException) -> str:
    """configuration | transient | system, for the run row and the retry decision."""
    return getattr(exc, "error_class", "system")
