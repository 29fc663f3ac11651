"""The declarative base of every table. Plain SQLAlchemy, so that the core can use the tables
without loading Flask: ``hub.extensions`` hands this class to Flask-SQLAlchemy as ``db.Model``'s
base (same registry, same metadata and naming convention)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    __table__: ClassVar[Table]  # every model maps one table (the core writes them in bulk)


def made_on(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` when comparing a database of ``dialect`` with the models:
    an index the models make on other dialects only (``Index(...).ddl_if(dialect=...)``) is
    left out, as ``create_all`` leaves it out."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        if type_ != "index" or reflected or ddl_if is None or ddl_if.dialect is None:
            return True
        allowed = ddl_if.dialect
        return dialect == allowed if isinstance(allowed, str) else dialect in allowed

    return include
