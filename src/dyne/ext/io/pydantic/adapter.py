"""The pydantic side of ``dyne.ext.io``: validators and serializers built once
per schema (``TypeAdapter``), error messages in dyne's shape."""

from __future__ import annotations

import collections
import collections.abc
import typing
from collections.abc import Callable
from typing import Any

from pydantic import AliasChoices, AliasPath, BaseModel, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from ..core import (
    MALFORMED,
    SCHEMA_ERROR_KEY,
    Dumper,
    InputFields,
    InputInvalid,
    JsonLoader,
    Loader,
    SerializationError,
    as_list,
    is_collection,
)

__all__ = ["ADAPTER", "PydanticAdapter", "format_errors"]

_MULTI_ORIGINS = frozenset({
    list, set, frozenset, tuple, collections.deque,
    collections.abc.Sequence, collections.abc.MutableSequence,
    collections.abc.Set, collections.abc.MutableSet, collections.abc.Collection,
    collections.abc.Iterable,
})


def _error_message(error: Any) -> str:
    if error.get("type") == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        if cause is not None:
            return str(cause)
    return str(error["msg"])


def format_errors(exc: ValidationError) -> dict[str, list[str]]:
    """``{"dotted.path": ["message", ...]}``; problems with the whole input
    under ``"_schema"``. ``ValueError``s raised by validators keep their own
    message (without pydantic's "Value error, " prefix)."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or SCHEMA_ERROR_KEY
        errors.setdefault(path, []).append(_error_message(error))
    return errors


def _is_multi(annotation: Any) -> bool:
    """Whether a field annotation takes several values (``list[str]``,
    ``set[int] | None``, ``Annotated[list[str], ...]``...)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_multi(typing.get_args(annotation)[0])
    if origin in _MULTI_ORIGINS or annotation in _MULTI_ORIGINS:
        return True
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return any(_is_multi(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return False


def _aliases(field: Any) -> list[str]:
    found: list[str] = []
    validation_alias = field.validation_alias
    choices: list[Any] = []
    if isinstance(validation_alias, AliasChoices):
        choices = list(validation_alias.choices)
    elif validation_alias is not None:
        choices = [validation_alias]
    for choice in choices:
        if isinstance(choice, str):
            found.append(choice)
        elif isinstance(choice, AliasPath) and choice.path and isinstance(choice.path[0], str):
            found.append(choice.path[0])
    if not found and field.alias is not None:
        found.append(field.alias)
    return found


def _model_class(schema: Any) -> Any:
    return type(schema) if isinstance(schema, BaseModel) else schema


class PydanticAdapter:
    library = "pydantic"

    def __init__(self) -> None:
        self._adapters: dict[Any, TypeAdapter[Any]] = {}

    def type_adapter(self, schema: Any) -> TypeAdapter[Any]:
        """The ``TypeAdapter`` for ``schema``, built once."""
        target = _model_class(schema)
        try:
            return self._adapters[target]
        except KeyError:
            pass
        except TypeError:  # unhashable: not cached
            return TypeAdapter(target)
        adapter: TypeAdapter[Any] = TypeAdapter(target)
        self._adapters[target] = adapter
        return adapter

    def accepts(self, schema: Any) -> bool:
        if isinstance(schema, BaseModel) or (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return True
        try:
            self.type_adapter(schema)
        except (PydanticSchemaGenerationError, PydanticUserError, TypeError):
            return False
        return True

    def input_fields(self, schema: Any) -> InputFields | None:
        model = _model_class(schema)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        config = model.model_config
        by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
        keys: list[str] = []
        multi: set[str] = set()
        for name, field in model.model_fields.items():
            aliases = _aliases(field)
            candidates = [*aliases, name] if (by_name or not aliases) else aliases
            for key in candidates:
                if key not in keys:
                    keys.append(key)
                if _is_multi(field.annotation):
                    multi.add(key)
        return InputFields(tuple(keys), frozenset(multi))

    def _bound(self, schema: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """``(validate_python, to_python)`` of the schema's validator and
        serializer, bound once; through the ``TypeAdapter`` when they cannot be
        built yet (unresolved forward references are retried on first use)."""
        adapter = self.type_adapter(schema)
        try:
            return adapter.validator.validate_python, adapter.serializer.to_python
        except PydanticUserError:
            return adapter.validate_python, adapter.dump_python

    def loader(self, schema: Any, location: str) -> Loader:
        validate, to_python = self._bound(schema)

        def load(raw: Any) -> Any:
            try:
                value = validate(raw)
            except ValidationError as exc:
                raise InputInvalid(format_errors(exc)) from None
            return to_python(value)

        return load

    def json_loader(self, schema: Any, *, dumped: bool = True) -> JsonLoader:
        """``load(body) -> value``: validate a JSON body in one pass, without
        decoding it first (what ``loader`` gives, or with ``dumped=False``
        what ``validator`` gives); ``MALFORMED`` when ``body`` is not JSON."""
        adapter = self.type_adapter(schema)
        validate_json: Callable[[bytes], Any]
        try:
            validate_json = adapter.validator.validate_json
        except PydanticUserError:
            validate_json = adapter.validate_json
        _, to_python = self._bound(schema)

        def load_json(body: bytes) -> Any:
            try:
                value = validate_json(body)
            except ValidationError as exc:
                if any(error["type"] == "json_invalid" for error in exc.errors(include_url=False)):
                    return MALFORMED
                raise InputInvalid(format_errors(exc)) from None
            return to_python(value) if dumped else value

        return load_json

    def validator(self, schema: Any) -> Loader:
        """``validate(raw) -> value`` as the schema builds it (a model instance,
        not dumped); raises ``InputInvalid``."""
        validate, _ = self._bound(schema)

        def validate_raw(raw: Any) -> Any:
            try:
                return validate(raw)
            except ValidationError as exc:
                raise InputInvalid(format_errors(exc)) from None

        return validate_raw

    def dumper(self, schema: Any) -> Dumper:
        target = _model_class(schema)
        name = getattr(target, "__name__", repr(target))
        validate_one, dump_one = self._bound(target)
        if not isinstance(target, type):
            # A type expression such as list[Book]: used as given.
            def dump_as_given(obj: Any, default: Callable[[Any], Any] | None = None) -> Any:
                if not isinstance(obj, (list, dict, BaseModel)) and is_collection(obj):
                    obj = as_list(obj)
                try:
                    return dump_one(validate_one(obj, from_attributes=True), mode="json",
                                    fallback=default)
                except ValidationError as exc:
                    raise SerializationError(f"resp.obj does not match {name}: "
                                             f"{format_errors(exc)}") from None

            return dump_as_given

        validate_many, dump_many = self._bound(list[target])  # type: ignore[valid-type]
        model = target if issubclass(target, BaseModel) else None

        def dump(obj: Any, default: Callable[[Any], Any] | None = None) -> Any:
            # ``default``: the app's encoder for types pydantic does not know.
            try:
                if model is not None and isinstance(obj, model):
                    return dump_one(obj, mode="json", fallback=default)
                if isinstance(obj, dict):  # one object, the usual case after the model
                    return dump_one(validate_one(obj, from_attributes=True), mode="json",
                                    fallback=default)
                if not isinstance(obj, BaseModel) and is_collection(obj):
                    return dump_many(validate_many(as_list(obj), from_attributes=True), mode="json",
                                     fallback=default)
                return dump_one(validate_one(obj, from_attributes=True), mode="json",
                                fallback=default)
            except ValidationError as exc:
                raise SerializationError(f"resp.obj does not match {name}: {format_errors(exc)}") from None

        return dump


ADAPTER = PydanticAdapter()
