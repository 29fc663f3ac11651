"""Products: ``q`` is a case-insensitive substring of the name or the platform's product id
pasted whole; ``source`` the platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select

from hub.core.sources import unique_keys
from hub.extensions import db
from hub.models import Product
from hub.queries.paging import contains, source_spellings, text_arg


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    source: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> ProductFilter:
        return cls(q=text_arg(args, "q"), source=text_arg(args, "source"))


def search(workspace_id: int, f: ProductFilter) -> Select[Any]:
    """The workspace's products matching ``f``, by name."""
    stmt = select(Product).where(Product.workspace_id == workspace_id)
    if f.q:
        stmt = stmt.where(
            or_(
                func.lower(Product.name).like(contains(f.q.lower()), escape="\\"),
                Product.external_id == f.q,
            )
        )
    if f.source:
        stmt = stmt.where(func.lower(Product.source).in_(source_spellings(f.source)))
    return stmt.order_by(Product.name, Product.id)


def sources(workspace_id: int) -> list[str]:
    stmt = select(Product.source).where(Product.workspace_id == workspace_id).distinct()
    return unique_keys(db.session.scalars(stmt))
