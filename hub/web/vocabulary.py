"""Words the pages show from data: statuses, roles, stages, event types, triggers and error
classes. The templates translate them with ``_(value)``; marking them here puts them in the
catalog (tests/unit/test_vocabulary.py checks every value the models allow is marked)."""

from __future__ import annotations

from hub.web.i18n import N_

ROLES = (N_("admin"), N_("analyst"), N_("read-only"))
ORDER_STATUSES = (N_("pending"), N_("paid"), N_("shipped"), N_("completed"), N_("closed"))
RUN_STATUSES = (N_("queued"), N_("running"), N_("retrying"), N_("succeeded"), N_("failed"))
STORE_STATUSES = (N_("active"), N_("error"), N_("unbound"))
INBOX_STATUSES = (N_("received"), N_("processed"), N_("ignored"), N_("failed"))
STAGES = (N_("prospect"), N_("lead"), N_("customer"), N_("repeat"), N_("loyal"))
EVENT_TYPES = (
    N_("purchase"),
    N_("return"),
    N_("cancel"),
    N_("first_purchase"),
    N_("checkout_abandoned"),
)
TRIGGERS = (N_("manual"), N_("auto"), N_("api"), N_("resume"), N_("migration"))
ERROR_CLASSES = (N_("configuration"), N_("transient"), N_("system"))


# The connectors' names and form labels (their modules do not import the web layer);
# tests/unit/test_vocabulary.py fails naming any label a connector adds without marking it here.
CONNECTOR_TEXT = (
    N_("Youzan"),
    N_("Customer spreadsheet"),
    N_("Sobot orders"),
    N_("Tmall order reports"),
    N_("Client ID"),
    N_("Client secret"),
    N_("Store ID (kdt_id)"),
    N_("API base URL"),
    N_("First sync: days back"),
    N_("First wait after throttling (4101)"),
    N_("Sender mobile (needed to ship with SF Express)"),
    N_("Shopify"),
    N_("Shop (name.myshopify.com)"),
    N_("Admin API access token"),
    N_("API version"),
    N_("WeChat Mini Shop"),
    N_("AppID (wx…)"),
    N_("AppSecret"),
    N_("Push token (message push Token)"),
    N_("EncodingAESKey (optional)"),
    N_("Longest wait after the per-minute quota (45011), seconds"),
)

ALL: frozenset[str] = frozenset(
    (
        *ROLES,
        *ORDER_STATUSES,
        *RUN_STATUSES,
        *STORE_STATUSES,
        *INBOX_STATUSES,
        *STAGES,
        *EVENT_TYPES,
        *TRIGGERS,
        *ERROR_CLASSES,
        *CONNECTOR_TEXT,
    )
)
