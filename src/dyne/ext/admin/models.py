"""What the admin knows about a model: its columns (visible, searchable,
sensitive), how to read a form into values, how to filter, search and sort."""

from __future__ import annotations

import datetime
import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, Text, inspect, or_, select, types

from dyne.ext.db.alchemical.fields import Invalid, coerce_value

__all__ = ["SENSITIVE", "ColumnInfo", "ModelAdmin"]

#: Column names never shown by default (values are never rendered or logged).
SENSITIVE = re.compile(r"passw|pwd|hash|secret|token|api_?key|private", re.IGNORECASE)
#: Options offered for a many-to-one select, at most.
MAX_CHOICES = 500
_LABEL_COLUMNS = ("name", "title", "username", "email", "label", "slug")


@dataclass
class ColumnInfo:
    """One column as the admin shows and edits it."""

    key: str
    column: Any
    sensitive: bool
    hidden: bool
    #: the model a foreign key points to (a many-to-one select), or None.
    target: Any = None

    @property
    def label(self) -> str:
        return self.key.replace("_", " ").capitalize()

    @property
    def primary_key(self) -> bool:
        return bool(self.column.primary_key)

    @property
    def generated(self) -> bool:
        """A primary key the database generates (left out of create forms)."""
        column = self.column
        return bool(column.primary_key and isinstance(column.type, types.Integer)
                    and column.autoincrement in (True, "auto") and not column.foreign_keys)

    @property
    def required(self) -> bool:
        column = self.column
        return not (column.nullable or column.default is not None or column.server_default is not None
                    or self.generated or isinstance(column.type, types.Boolean))

    @property
    def searchable(self) -> bool:
        return not self.sensitive and isinstance(self.column.type, (String, Text)) \
            and not isinstance(self.column.type, types.Enum)

    @property
    def input_type(self) -> str:
        """The form control: text, textarea, number, decimal, checkbox, date,
        datetime-local, time, select, password, json."""
        kind = self.column.type
        if self.sensitive:
            return "password"
        if self.target is not None or isinstance(kind, types.Enum):
            return "select"
        if isinstance(kind, types.Boolean):
            return "checkbox"
        if isinstance(kind, types.Integer):
            return "number"
        if isinstance(kind, (types.Numeric, types.Float)):
            return "decimal"
        if isinstance(kind, types.DateTime):
            return "datetime-local"
        if isinstance(kind, types.Date):
            return "date"
        if isinstance(kind, types.Time):
            return "time"
        if isinstance(kind, types.JSON):
            return "json"
        if isinstance(kind, Text) or (isinstance(kind, String) and (kind.length or 10_000) > 255):
            return "textarea"
        return "text"

    @property
    def filterable(self) -> bool:
        """Offered as a filter select on the list page."""
        return not self.sensitive and (self.target is not None
                                       or isinstance(self.column.type, (types.Boolean, types.Enum)))

    @property
    def initial(self) -> Any:
        """The column's scalar default (what a new form starts with), or ``None``."""
        default = self.column.default
        if default is not None and getattr(default, "is_scalar", False):
            return default.arg
        return None

    def enum_choices(self) -> list[str]:
        kind = self.column.type
        if not isinstance(kind, types.Enum):
            return []
        if kind.enum_class is not None:
            return [member.name for member in kind.enum_class]  # type: ignore[attr-defined]
        return list(kind.enums)

    def display(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, enum.Enum):
            return value.name
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime.datetime):
            return value.isoformat(sep=" ", timespec="seconds")
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def form_value(self, value: Any) -> str:
        """``value`` as an input's ``value`` attribute."""
        if value is None or self.sensitive:
            return ""
        if isinstance(value, enum.Enum):
            return value.name
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=None).isoformat(timespec="seconds")
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)


@dataclass
class ModelAdmin:
    """A model as the admin serves it, made once per model."""

    model: Any
    read_only: bool = False
    hidden: frozenset[str] = frozenset()
    columns: list[ColumnInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        mapper: Any = inspect(self.model)
        by_table = {m.local_table: m.class_ for m in mapper.registry.mappers}
        for attribute in mapper.column_attrs:
            if len(attribute.columns) != 1:
                continue
            column = attribute.columns[0]
            target = None
            for foreign_key in column.foreign_keys:
                target = by_table.get(foreign_key.column.table)
            self.columns.append(ColumnInfo(
                key=attribute.key, column=column, sensitive=bool(SENSITIVE.search(attribute.key)),
                hidden=attribute.key in self.hidden, target=target))
        primary = [info for info in self.columns if info.primary_key]
        if len(primary) != 1:
            raise ValueError(f"The admin needs models with a one-column primary key; "
                             f"{self.model.__name__} has {len(primary)}")
        self.pk = primary[0]

    @property
    def name(self) -> str:
        return str(self.model.__name__)

    @property
    def slug(self) -> str:
        return self.name.lower()

    @property
    def shown(self) -> list[ColumnInfo]:
        """Columns shown on list and detail pages."""
        return [info for info in self.columns if not info.sensitive and not info.hidden]

    @property
    def editable(self) -> list[ColumnInfo]:
        """Columns in forms (sensitive ones as empty password inputs)."""
        return [info for info in self.columns if not info.hidden]

    def column(self, key: str) -> ColumnInfo | None:
        return next((info for info in self.columns if info.key == key), None)

    def values(self, obj: Any, *, redact: bool = True) -> dict[str, Any]:
        """The object's column values (sensitive ones as ``"***"``)."""
        return {info.key: ("***" if redact and info.sensitive else getattr(obj, info.key))
                for info in self.columns}

    def label(self, obj: Any) -> str:
        for name in _LABEL_COLUMNS:
            info = self.column(name)
            if info is not None and not info.sensitive:
                value = getattr(obj, name, None)
                if value:
                    return f"{value}"
        return f"{self.name} {getattr(obj, self.pk.key)}"

    # -- reading a form ------------------------------------------------------------

    def parse_pk(self, text: str, dialect: str) -> Any:
        try:
            return coerce_value(self.pk.column, text, dialect)
        except Invalid:
            return None

    def read_form(self, form: Mapping[str, Any], dialect: str, *, creating: bool
                  ) -> tuple[dict[str, Any], dict[str, str]]:
        """``(values, errors)`` from a submitted form. Empty inputs are ``None``
        (nullable columns) and missing for sensitive ones (kept unchanged)."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for info in self.editable:
            if info.primary_key and (not creating or info.generated):
                continue
            kind = info.column.type
            if isinstance(kind, types.Boolean):
                values[info.key] = info.key in form
                continue
            raw = form.get(info.key)
            text = raw if isinstance(raw, str) else ""
            if info.sensitive and text == "":
                if creating and info.required:
                    errors[info.key] = "This field is required."
                continue
            is_string = isinstance(kind, (String, Text)) and not isinstance(kind, types.Enum)
            if (text == "") if is_string else (text.strip() == ""):
                if info.column.nullable:
                    values[info.key] = None
                elif not (creating and not info.required):  # else: the column's default
                    errors[info.key] = "This field is required."
                continue
            try:
                if info.input_type == "json":
                    values[info.key] = json.loads(text)
                else:
                    values[info.key] = coerce_value(info.column, text, dialect)
            except Invalid as exc:
                errors[info.key] = str(exc)
            except ValueError:
                errors[info.key] = "Expected JSON."
        return values, errors

    # -- queries ----------------------------------------------------------------------

    def list_statement(self, params: Mapping[str, Any], dialect: str) -> tuple[Select[Any], dict[str, Any]]:
        """The list page's statement (search, filters, sorting) and the state
        it was built from (for the page's links)."""
        statement = select(self.model)
        query = str(params.get("q") or "").strip()[:200]
        if query:
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            searchable = [info.column for info in self.shown if info.searchable]
            if searchable:
                pattern = f"%{escaped}%"
                statement = statement.where(or_(*(getattr(self.model, column.key).ilike(
                    pattern, escape="\\") for column in searchable)))
        filters: dict[str, str] = {}
        for info in self.shown:
            raw = params.get(f"f.{info.key}")
            if raw is None or raw == "":
                continue
            try:
                value = coerce_value(info.column, str(raw), dialect)
            except Invalid:
                continue
            filters[info.key] = str(raw)
            statement = statement.where(getattr(self.model, info.key) == value)
        sort = str(params.get("sort") or self.pk.key)
        chosen = self.column(sort)
        if chosen is None or chosen.sensitive or chosen.hidden:
            sort, chosen = self.pk.key, self.pk
        descending = params.get("dir") == "desc"
        attribute = getattr(self.model, chosen.key)
        statement = statement.order_by(attribute.desc() if descending else attribute.asc())
        if chosen is not self.pk:
            pk_attribute = getattr(self.model, self.pk.key)
            statement = statement.order_by(pk_attribute.desc() if descending else pk_attribute.asc())
        return statement, {"q": query, "filters": filters, "sort": sort,
                           "dir": "desc" if descending else "asc"}

    async def choices(self, session: Any, info: ColumnInfo) -> list[tuple[str, str]]:
        """``(value, label)`` pairs for a select."""
        if info.target is None:
            return [(choice, choice) for choice in info.enum_choices()]
        target = ModelAdmin(info.target)
        rows = (await session.scalars(select(info.target).order_by(
            getattr(info.target, target.pk.key)).limit(MAX_CHOICES))).all()
        return [(str(getattr(row, target.pk.key)), target.label(row)) for row in rows]


def hidden_for(model: Any, hidden: Mapping[Any, Iterable[str]]) -> frozenset[str]:
    """The hidden columns configured for ``model`` (by class or class name)."""
    names = set(hidden.get(model, ())) | set(hidden.get(model.__name__, ()))
    return frozenset(names)
