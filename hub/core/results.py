"""What a batch is applied with and what it reports: the options, the stream state committed
with it, and the result (counts, failures, conflicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    # W5: recompute the third-party sales of the products the batch's order lines name (a
    # store the hub migrates from: hub.core.store.sales)
    sales_volume: bool = False


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
    skipped: list[Failure] = field(default_factory=list)
    # Possible duplicates never merged: a buyer's contact mobile held by another customer.
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    # The PrivacyRequest rows the batch's privacy records left (their ids, in batch order).
    privacy_requests: list[int] = field(default_factory=list)

    def add(self, entity: str, outcome: str, n: int = 1) -> None:
        if n:
            bucket = self.counts.setdefault(entity, {})
            bucket[outcome] = bucket.get(outcome, 0) + n

    def merge(self, other: IngestResult) -> None:
        for entity, outcomes in other.counts.items():
            for outcome, n in outcomes.items():
                self.add(entity, outcome, n)
        self.failures.extend(other.failures)
        self.conflicts.extend(other.conflicts)
        self.skipped.extend(other.skipped)
        self.suggestions.extend(other.suggestions)
        self.privacy_requests.extend(other.privacy_requests)
