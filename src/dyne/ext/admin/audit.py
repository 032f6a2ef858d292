"""The admin's audit log: one row per change made through the admin, in a
table of the app's own database (``dyne_admin_audit``).

The model is defined on first use rather than at import time, and defined
again if it was unmapped (tests that forget their models do that), so that
importing ``dyne.ext.admin`` adds nothing to ``Model.metadata`` by itself.
"""


import datetime
import json
from typing import Any

__all__ = ["AUDIT_TABLE", "audit_model", "dump_values"]

#: The audit log's table name.
AUDIT_TABLE = "dyne_admin_audit"

_model: Any = None


def _still_mapped(model: Any) -> bool:
    from dyne.ext.db.alchemical.model import Model

    table = Model.metadata.tables.get(AUDIT_TABLE)
    if table is None or table is not getattr(model, "__table__", None):
        return False
    return any(mapper.class_ is model for mapper in Model.registry.mappers)


def audit_model() -> Any:
    """The ``AdminAuditLog`` model (columns ``id``, ``at``, ``user``,
    ``action``, ``target``, ``object_id``, ``before``, ``after``; ``before``
    and ``after`` hold JSON text)."""
    global _model
    if _model is not None and _still_mapped(_model):
        return _model
    from sqlalchemy import DateTime, Integer, String, Text
    from sqlalchemy.orm import Mapped, mapped_column

    from dyne.ext.db.alchemical.model import Model

    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    class AdminAuditLog(Model):  # type: ignore[misc]
        """One change made through the admin: who, what, when, before/after."""

        __tablename__ = AUDIT_TABLE
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now,
                                                      index=True)
        user: Mapped[str] = mapped_column(String(200))
        action: Mapped[str] = mapped_column(String(40))
        target: Mapped[str] = mapped_column(String(200))
        object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
        before: Mapped[str | None] = mapped_column(Text, nullable=True)
        after: Mapped[str | None] = mapped_column(Text, nullable=True)

    _model = AdminAuditLog
    return _model


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def dump_values(values: dict[str, Any] | None) -> str | None:
    """``values`` as JSON text for the ``before``/``after`` columns."""
    if values is None:
        return None
    return json.dumps({key: _plain(value) for key, value in values.items()}, sort_keys=True)
