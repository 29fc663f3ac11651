"""SQLAlchemy models. Importing this package registers every table on ``db.metadata``."""

from hub.models.connection import SYNC_MODES, Connection, Cursor, SyncRun
from hub.models.customer import (
    Customer,
    CustomerTag,
    Group,
    GroupMember,
    Identity,
    IdentityType,
    MergeLedger,
    Tag,
)
from hub.models.deal import Deal
from hub.models.event import Event, EventSetting
from hub.models.imports import ImportRun
from hub.models.inbox import WebhookDelivery
from hub.models.order import STATUSES, Order, OrderLine, OrderRefund
from hub.models.outbox import OutboxAttempt, OutboxDelivery, OutboxDisabledTarget
from hub.models.privacy import CustomerTombstone, PrivacyRequest
from hub.models.product import Product
from hub.models.rule import Rule, RuleRun
from hub.models.segment import Segment
from hub.models.types import Money, UTCDateTime, to_money, utcnow
from hub.models.workspace import ApiToken, SignInThrottle, User, UserSession, Workspace

__all__ = [
    "STATUSES",
    "SYNC_MODES",
    "ApiToken",
    "Connection",
    "Cursor",
    "Customer",
    "CustomerTag",
    "CustomerTombstone",
    "Deal",
    "Event",
    "EventSetting",
    "Group",
    "GroupMember",
    "Identity",
    "IdentityType",
    "ImportRun",
    "MergeLedger",
    "Money",
    "Order",
    "OrderLine",
    "OrderRefund",
    "OutboxAttempt",
    "OutboxDelivery",
    "OutboxDisabledTarget",
    "PrivacyRequest",
    "Product",
    "Rule",
    "RuleRun",
    "Segment",
    "SignInThrottle",
    "SyncRun",
    "Tag",
    "UTCDateTime",
    "User",
    "UserSession",
    "WebhookDelivery",
    "Workspace",
    "to_money",
    "utcnow",
]
