"""Small containers used by requests and responses.

``Headers`` (request headers, read-only, case-insensitive), ``CaseInsensitiveDict``
(response headers: case-insensitive, case-preserving), ``QueryDict`` (query strings
with repeated keys), ``State`` (attribute bag) and ``Address`` (client host/port).
They are written here rather than taken from Starlette so that building a request
costs nothing until a value is asked for, and ``import dyne`` stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple

__all__ = ["Address", "CaseInsensitiveDict", "Headers", "QueryDict", "State"]


class Address(NamedTuple):
    """The client's address, unpackable as ``host, port = req.client``."""

    host: str
    port: int


class CaseInsensitiveDict(MutableMapping[str, str]):
    """A ``str -> str`` mapping whose keys compare case-insensitively.

    The key's original spelling is kept for output (``X-Request-ID`` stays
    ``X-Request-ID`` on the wire) while ``headers["x-request-id"]`` finds it.
    """

    __slots__ = ("_store",)

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
                 **kwargs: str) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        if data is not None:
            self.update(data)
        if kwargs:
            self.update(kwargs)

    def __setitem__(self, key: str, value: str) -> None:
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._store[key.lower()][1]

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._store

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        item = self._store.get(key.lower())
        return default if item is None else item[1]

    def lower_items(self) -> Iterator[tuple[str, str]]:
        """``(lowercased key, value)`` pairs, as they go on the wire."""
        return ((lower, pair[1]) for lower, pair in self._store.items())

    def copy(self) -> CaseInsensitiveDict:
        new = CaseInsensitiveDict()
        new._store = dict(self._store)
        return new

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            other_ci = other if isinstance(other, CaseInsensitiveDict) else CaseInsensitiveDict(other)
            return dict(self.lower_items()) == dict(other_ci.lower_items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.items())!r})"


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive view of the raw ASGI request headers.

    ``headers["accept"]`` returns the first value sent; ``getlist`` returns all.
    The lookup table is built on first access, so requests whose headers are
    never read pay nothing for them.
    """

    __slots__ = ("_dict", "_raw")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]] | Mapping[str, str] = ()) -> None:
        if isinstance(raw, Mapping):
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in raw.items()]
        self._raw: list[tuple[bytes, bytes]] = list(raw)
        self._dict: dict[str, str] | None = None

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    def _table(self) -> dict[str, str]:
        table = self._dict
        if table is None:
            table = {}
            for key, value in self._raw:
                name = key.decode("latin-1").lower()
                if name not in table:
                    table[name] = value.decode("latin-1")
            self._dict = table
        return table

    def __getitem__(self, key: str) -> str:
        return self._table()[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._table().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def getlist(self, key: str) -> list[str]:
        """Every value sent for ``key``, in order."""
        wanted = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k.lower() == wanted]

    def __repr__(self) -> str:
        return f"Headers({self._table()!r})"


class QueryDict(dict):  # type: ignore[type-arg]
    """Query-string parameters: a ``dict`` of key -> list of values.

    ``params["tag"]`` and ``params.get("tag")`` give the *last* value sent for a
    key (as Django and Responder do); ``get_list("tag")`` (or ``getlist``)
    gives all of them. ``items()`` yields ``(key, last value)``;
    ``items_list()`` yields ``(key, [values])``. As in Dyne 2.0.5,
    ``dict(params)`` and ``params == {...}`` see the lists:
    ``QueryDict("a=1&a=2") == {"a": ["1", "2"]}``; ``to_dict()`` gives the last
    values.
    """

    __slots__ = ()

    def __init__(self, query: str | Mapping[str, Any] | Iterable[tuple[str, str]] = "") -> None:
        super().__init__()
        lists: dict[str, list[str]] = self
        if isinstance(query, str):
            if not query:
                return
            if "%" in query or "+" in query:
                from urllib.parse import parse_qsl

                pairs: Iterable[tuple[str, Any]] = parse_qsl(query, keep_blank_values=True)
            else:
                # Nothing to unquote: split as parse_qsl(keep_blank_values=True)
                # does (empty fields skipped, a field without "=" has value "").
                get = dict.get
                for field in query.split("&"):
                    if field:
                        key, _, value = field.partition("=")
                        values = get(lists, key)
                        if values is None:
                            dict.__setitem__(lists, key, [value])
                        else:
                            values.append(value)
                return
        elif isinstance(query, Mapping):
            pairs = query.items()
        else:
            pairs = query
        for key, value in pairs:
            values = dict.setdefault(lists, key, [])
            if isinstance(value, list):
                values.extend(value)
            else:
                values.append(value)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key)[-1]  # type: ignore[no-any-return]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        values = dict.get(self, key)
        return default if values is None else values[-1]

    def get_list(self, key: str, default: list[str] | None = None) -> list[str]:
        """All values for ``key`` (an empty list, or ``default``, when absent)."""
        values = dict.get(self, key)
        if values is None:
            return [] if default is None else default
        return list(values)

    getlist = get_list

    def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
        """``(key, last value)`` pairs."""
        return ((key, values[-1]) for key, values in dict.items(self))

    def items_list(self) -> Iterator[tuple[str, list[str]]]:
        """``(key, [all values])`` pairs."""
        return ((key, list(values)) for key, values in dict.items(self))

    def to_dict(self) -> dict[str, str]:
        """A plain ``dict`` with the last value of each key."""
        return {key: values[-1] for key, values in dict.items(self)}

    def __repr__(self) -> str:
        return f"QueryDict({dict.__repr__(self)})"


class State:
    """An attribute bag: ``state.db = pool``; reading a missing name raises
    ``AttributeError`` (use ``getattr(state, "name", default)`` when unsure)."""

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, name: str, value: Any) -> None:
        self._state[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._state[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute '{name}'") from None

    def __delattr__(self, name: str) -> None:
        try:
            del self._state[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute '{name}'") from None

    def __contains__(self, name: str) -> bool:
        return name in self._state

    def __repr__(self) -> str:
        return f"State({self._state!r})"
