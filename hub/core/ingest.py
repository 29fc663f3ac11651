"""The one batch-apply entry. Every source ends here; nothing else writes customers, orders
or events. (Being implemented; the signature below is the contract.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub.core.records import Record


@dataclass(slots=True)
class CursorUpdate:
    """Stream state committed in the same transaction as the rows it covers."""

    connection_id: int
    stream: str
    state: dict[str, Any]


@dataclass(slots=True)
class IngestOptions:
    identity_conflict: str = "drop"  # drop the conflicting identity and report | fail the record
    original_source_policy: str = "new_only"  # new_only | all
    group_id: int | None = None  # add every customer touched to this static group
    tags: list[str] = field(default_factory=list)  # add these tags to every customer touched
    dry_run: bool = False  # compute the full report, write nothing
    create_customers: bool = True


@dataclass
class Failure:
    index: int  # position of the record in the batch
    key: str  # its external id (or identity) for the report
    reason: str  # names the field and the rule


@dataclass
class IngestResult:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, entity: str, outcome: str, n: int = 1) -> None:
        bucket = self.counts.setdefault(entity, {})
        bucket[outcome] = bucket.get(outcome, 0) + n


def apply(
    session: Session,
    workspace_id: int,
    records: Sequence[Record],
    *,
    connection_id: int | None = None,
    cursor: CursorUpdate | None = None,
    options: IngestOptions | None = None,
    commit: bool = True,
) -> IngestResult:
    """Apply a batch in one transaction: resolve buyers, upsert customers, orders, lines and
    products, derive events from state changes, apply event settings, advance the cursor."""
    raise NotImplementedError
