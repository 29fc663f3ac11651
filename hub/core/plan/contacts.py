"""A buyer's contact mobile (issue 22.2), in memory: the consignee mobile a shop sends with an
order is the buyer's verified contact. It becomes a mobile identity, so that a later customer
import or another shop's order with that mobile finds the buyer, but it is weak: a record with
identities of its own is never matched by it, and it never links two customers. One another
customer holds is a possible duplicate, suggested (``Resolution.suggestions``), not merged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.core.normalise import InvalidValue, junk_reason, normalise_identity
from hub.core.records import CustomerRecord


def contact_identities(
    record: CustomerRecord, identities: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The record's contact mobile as a weak identity, when it is a real number (I3 and the
    blocklist) that its identities do not carry already; else []."""
    raw = record.mobile
    if not raw:
        return []
    try:
        value = normalise_identity("mobile", raw)
    except InvalidValue:
        return []
    pair = ("mobile", value)
    if junk_reason("mobile", value) or pair in identities:
        return []
    return [pair]


def attach_contacts(
    owners: dict[tuple[str, str], Any],
    held: dict[tuple[Any, str], int],
    res: Any,
    contacts: Sequence[tuple[str, str]],
) -> None:
    """A contact becomes the customer's identity (``res``, a ``Resolution``) when it is free
    and the customer holds none of its type yet (a buyer's later consignees, gifts to others,
    are not collected); one held by another customer is suggested when the customer is new.
    ``owners`` and ``held`` are the resolver's memory of the batch, updated here."""
    matched = res.customer
    for pair in contacts:
        type_ = pair[0]
        owner = owners.get(pair)
        if owner is None:
            if held.get((matched, type_), 0):
                continue
            res.attach.append(pair)
            owners[pair] = matched
            held[(matched, type_)] = 1
        elif owner != matched and res.is_new:
            res.suggestions.append(
                {
                    "kind": "possible_duplicate",
                    "type": type_,
                    "value": pair[1],
                    "customer": owner,
                    "reason": f"{type_} {pair[1]} is also customer {owner}'s: not merged",
                }
            )
