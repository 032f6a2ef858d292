"""Application configuration: ``app.config``.

Values are looked up in this order, so a deployment can always override a
local setting:

1. the OS environment (``os.environ``, or the ``environ=`` mapping given),
2. the internal store: the ``.env`` file found in the working directory (or the
   ``env_file=`` given to ``App``) plus anything set with ``config[key] = value``,
3. Python objects seeded with ``config.from_object(...)`` (UPPERCASE names only),
4. the ``default`` given to ``config.get``.

With ``env_prefix="DYNE_"`` the environment and the env file are searched for
``DYNE_<KEY>``; objects are searched for ``<KEY>``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["Config", "ConfigError"]

T = TypeVar("T")

_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f", ""})
_MISSING = object()


class ConfigError(ValueError):
    """A configuration value is present but cannot be used (bad cast, failed
    validation)."""


def _cast_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"expected one of true/false, 1/0, yes/no, on/off; got {value!r}")


def _cast_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            parsed = json.loads(text)
            if isinstance(parsed, list):
                return parsed
        return [item.strip() for item in text.split(",") if item.strip()]
    return list(value)


def _cast_dict(value: Any) -> dict[Any, Any]:
    if isinstance(value, str):
        import json

        parsed = json.loads(value)
        if not isinstance(parsed, dict):
            raise ValueError(f"expected a JSON object, got {value!r}")
        return parsed
    return dict(value)


_SPECIAL_CASTS: dict[Any, Callable[[Any], Any]] = {
    bool: _cast_bool,
    list: _cast_list,
    dict: _cast_dict,
}


class Config:
    """Typed, layered configuration (see the module docstring for the order).

    * ``config.get(key, default=None, cast=None)`` never raises for a missing key.
    * ``config.require(key, cast=None)`` raises ``RuntimeError("Missing required
      config: KEY")`` when the key is absent.
    * ``config.KEY`` raises ``AttributeError("Config has no attribute 'KEY'")``.
    """

    def __init__(self, env_file: str | os.PathLike[str] | None = None, env_prefix: str = "",
                 encoding: str = "utf-8", *, environ: Mapping[str, str] | None = None) -> None:
        object.__setattr__(self, "_prefix", env_prefix)
        object.__setattr__(self, "_store", {})
        object.__setattr__(self, "_objects", {})
        object.__setattr__(self, "env_file", None)
        #: The environment looked up first: ``os.environ`` (live) unless a
        #: mapping was given (tests, embedding).
        object.__setattr__(self, "_environ", os.environ if environ is None else environ)
        if env_file is not None:
            if os.path.isfile(os.fspath(env_file)):
                self.load_env_file(env_file, encoding=encoding)
            else:
                import warnings

                # As Dyne 2.0.5: warn and carry on (the environment may hold
                # everything in production).
                warnings.warn(f"Config file {os.fspath(env_file)!r} not found.", UserWarning,
                              stacklevel=3)
        else:
            discovered = os.path.join(os.getcwd(), ".env")
            if os.path.isfile(discovered):
                self.load_env_file(discovered, encoding=encoding)

    # -- loading -----------------------------------------------------------------

    def load_env_file(self, path: str | os.PathLike[str], encoding: str = "utf-8") -> None:
        """Load ``KEY=value`` lines from a dotenv file into the internal store."""
        file = os.fspath(path)
        if not os.path.isfile(file):
            raise FileNotFoundError(f"Config env_file not found: {file}")
        from dotenv import dotenv_values

        values = dotenv_values(file, encoding=encoding)
        self._store.update({key: value for key, value in values.items() if value is not None})
        object.__setattr__(self, "env_file", file)

    def from_object(self, obj: Any) -> None:
        """Seed values from a class, module, instance, mapping or an import string
        such as ``"myproject.settings.Production"``. Only UPPERCASE names are used."""
        if isinstance(obj, str):
            obj = _import_string(obj)
        items = obj.items() if isinstance(obj, Mapping) else (
            (name, getattr(obj, name)) for name in dir(obj))
        for name, value in items:
            if isinstance(name, str) and name.isupper():
                self._objects[name] = value

    # -- lookup ------------------------------------------------------------------

    def _lookup(self, key: str) -> Any:
        full = self._prefix + key
        value = self._environ.get(full, _MISSING)
        if value is not _MISSING:
            return value
        value = self._store.get(full, _MISSING)
        if value is not _MISSING:
            return value
        return self._objects.get(key, _MISSING)

    def _cast(self, key: str, value: Any, cast: Callable[[Any], Any] | None) -> Any:
        if cast is None:
            return value
        caster = _SPECIAL_CASTS.get(cast, cast)
        try:
            return caster(value)
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            name = getattr(cast, "__name__", repr(cast))
            raise ConfigError(f"Config {key!r} has value {value!r}. Not a valid {name} "
                              f"({exc}).") from None

    def cast(self, key: str, value: Any, cast: Callable[[Any], T] | None) -> Any:
        """Cast ``value`` as ``get(key, cast=cast)`` would (``ConfigError`` naming
        ``key`` when it cannot). For extensions reading values from a section."""
        return self._cast(key, value, cast)

    def get(self, key: str, default: Any = None, cast: Callable[[Any], T] | None = None) -> Any:
        """The value of ``key`` (cast when ``cast`` is given), or ``default``.

        ``cast=bool`` reads ``true/1/yes/on`` as ``True`` and ``false/0/no/off``
        as ``False``; ``cast=list`` splits on commas (or parses a JSON list);
        ``cast=dict`` parses a JSON object. A value that cannot be cast raises
        ``ConfigError``. A string default is cast too; other defaults are
        returned as given.
        """
        value = self._lookup(key)
        if value is _MISSING:
            if isinstance(default, str) and cast is not None:
                return self._cast(key, default, cast)
            return default
        return self._cast(key, value, cast)

    def require(self, key: str, cast: Callable[[Any], T] | None = None) -> Any:
        """The value of ``key``; ``RuntimeError("Missing required config: KEY")``
        when it is not set anywhere."""
        value = self._lookup(key)
        if value is _MISSING:
            raise RuntimeError(f"Missing required config: {key}")
        return self._cast(key, value, cast)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        value = self._lookup(key)
        if value is _MISSING:
            raise AttributeError(f"Config has no attribute '{key}'")
        return value

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __getitem__(self, key: str) -> Any:
        value = self._lookup(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        """Set a value in the internal store (the OS environment still wins)."""
        self._store[self._prefix + key] = value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not _MISSING

    def set_default(self, key: str, value: Any) -> None:
        """Give ``key`` a value at the lowest layer (objects), used when nothing
        else sets it. Extensions use this to declare their defaults."""
        self._objects.setdefault(key, value)

    def validate(self, schema: type[T]) -> T:
        """Build and validate a typed settings object from this configuration.

        ``schema`` is a pydantic model or a dataclass; each field is read from
        the config under its UPPERCASE name (``database_url`` -> ``DATABASE_URL``),
        missing fields fall back to the schema's defaults. Raises ``ConfigError``
        listing every problem. Call it at start-up to fail fast::

            class Settings(BaseModel):
                database_url: str
                pool_size: int = 5

            settings = app.config.validate(Settings)
        """
        import dataclasses

        if dataclasses.is_dataclass(schema):
            return self._validate_dataclass(schema)
        if hasattr(schema, "model_validate") and hasattr(schema, "model_fields"):
            return self._validate_pydantic(schema)
        raise TypeError(f"config.validate() needs a pydantic model or a dataclass, got {schema!r}")

    def _field_values(self, names: list[str]) -> dict[str, Any]:
        values = {}
        for name in names:
            value = self._lookup(name.upper())
            if value is not _MISSING:
                values[name] = value
        return values

    def _validate_pydantic(self, schema: Any) -> Any:
        from pydantic import ValidationError

        try:
            return schema.model_validate(self._field_values(list(schema.model_fields)))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"Invalid configuration: {problems}") from None

    def _validate_dataclass(self, schema: Any) -> Any:
        import dataclasses
        import typing

        hints = typing.get_type_hints(schema)
        kwargs: dict[str, Any] = {}
        problems = []
        for field in dataclasses.fields(schema):
            value = self._lookup(field.name.upper())
            if value is _MISSING:
                has_default = (field.default is not dataclasses.MISSING
                               or field.default_factory is not dataclasses.MISSING)
                if not has_default:
                    problems.append(f"{field.name.upper()}: missing")
                continue
            hint = hints.get(field.name)
            cast = hint if hint in (bool, int, float, str, list, dict) else None
            try:
                kwargs[field.name] = self._cast(field.name.upper(), value, cast)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError(f"Invalid configuration: {'; '.join(problems)}")
        return schema(**kwargs)

    def __repr__(self) -> str:
        return f"<Config env_file={self.env_file} prefix={self._prefix!r}>"


def _import_string(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    if ":" in path:
        module_name, _, attr = path.partition(":")
    if not module_name:
        return importlib.import_module(attr)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return importlib.import_module(path)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"Module {module_name!r} has no attribute {attr!r}") from None
