"""Bounded request-body decoding for ``req.media()``.

A client chooses the body's format with its ``Content-Type``, so it also
chooses how much work and memory decoding costs. Every format therefore has
limits, and an app or a route chooses which formats it accepts:

* ``MediaLimit(max_size, max_items)`` per format: the body size in bytes
  (checked against ``Content-Length`` before reading, then while reading) and
  the number of values the decoded document may hold. ``DEFAULT_MEDIA_LIMITS``
  has the defaults; YAML, by far the slowest to decode, gets a small one.
* Bodies larger than ``OFF_LOOP_THRESHOLD`` bytes are decoded in the worker
  thread pool, not on the event loop. The limits keep each decoder call short
  (orjson holds the GIL for one call), so other requests keep being served.
* ``App(media_formats=...)`` and the ``media_formats=`` route option say which
  formats ``req.media()`` decodes when it picks the format from the
  ``Content-Type``; others get a 415.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import formats as _formats
from .exceptions import HTTPException

if TYPE_CHECKING:
    from .routing import Route

__all__ = [
    "DEFAULT_MEDIA_FORMATS",
    "DEFAULT_MEDIA_LIMITS",
    "JSON_SOURCE_MAX",
    "OFF_LOOP_THRESHOLD",
    "MediaLimit",
    "check_media_formats",
    "media_limits",
]

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimit:
    """Limits for one body format.

    ``max_size``: largest body in bytes (413 beyond); ``None`` leaves only the
    app's ``max_body_size``. ``max_items``: most values in the decoded
    document (413 beyond); ``None`` for no count. What counts as a value:

    * JSON: objects, arrays and the separators between values (``{``, ``[``
      and ``,`` bytes, counted before decoding; inside strings they count
      too, so the count is an upper bound);
    * MessagePack: maps and arrays, counted while decoding;
    * YAML: every node (scalars, mappings, sequences), counted while parsing;
    * form: fields of an urlencoded or multipart form; files: uploaded files.
    """

    max_size: int | None = None
    max_items: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_size", "max_items"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 0):
                raise ValueError(f"MediaLimit.{name} must be a non-negative int or None, "
                                 f"got {value!r}")


#: Default limits per format. JSON and MessagePack: 4 MiB and 200,000 values;
#: YAML: 64 KiB and 10,000 nodes (PyYAML decodes about 1 MB/s of dense flow
#: YAML); forms: the app's ``max_body_size``, 1,000 fields and 1,000 files.
DEFAULT_MEDIA_LIMITS: dict[str, MediaLimit] = {
    "json": MediaLimit(max_size=4 * MIB, max_items=200_000),
    "msgpack": MediaLimit(max_size=4 * MIB, max_items=200_000),
    "yaml": MediaLimit(max_size=64 * KIB, max_items=10_000),
    "form": MediaLimit(max_size=None, max_items=1000),
    "files": MediaLimit(max_size=None, max_items=1000),
}

#: Formats ``req.media()`` decodes by ``Content-Type`` unless told otherwise.
DEFAULT_MEDIA_FORMATS: frozenset[str] = frozenset({"json", "yaml", "msgpack", "form", "files"})

#: Bodies larger than this (bytes) are decoded in the thread pool.
OFF_LOOP_THRESHOLD = 64 * KIB

#: ASGI-scope key where a route's ``media_formats=`` is put for ``req.media()``.
SCOPE_FORMATS_KEY = "dyne.media_formats"

_KNOWN = ("json", "yaml", "msgpack", "form", "files")


def check_media_formats(formats: Iterable[str] | str | None) -> frozenset[str]:
    """Validate a list of format names (``None``: the defaults)."""
    if formats is None:
        return DEFAULT_MEDIA_FORMATS
    if isinstance(formats, str):
        formats = [formats]
    result = set()
    for name in formats:
        if not isinstance(name, str) or name.lower() not in _KNOWN:
            raise ValueError(f"Unknown media format {name!r}; use some of {', '.join(_KNOWN)}")
        result.add(name.lower())
    if "form" in result:
        result.add("files")  # a multipart form is read as "form" and carries files
    return frozenset(result)


def media_limits(overrides: Mapping[str, MediaLimit | Mapping[str, Any] | None] | None
                 ) -> dict[str, MediaLimit]:
    """``DEFAULT_MEDIA_LIMITS`` updated with ``overrides``: a ``MediaLimit`` or
    a dict of its fields (merged into the default) per format."""
    limits = dict(DEFAULT_MEDIA_LIMITS)
    if not overrides:
        return limits
    if not isinstance(overrides, Mapping):
        raise TypeError(f"media_limits must be a dict of format -> MediaLimit, got {overrides!r}")
    for name, value in overrides.items():
        if name not in limits:
            raise ValueError(f"Unknown media format {name!r} in media_limits; "
                             f"use some of {', '.join(_KNOWN)}")
        if value is None:
            limits[name] = MediaLimit()
        elif isinstance(value, MediaLimit):
            limits[name] = value
        elif isinstance(value, Mapping):
            base = limits[name]
            fields = {"max_size": base.max_size, "max_items": base.max_items}
            unknown = set(value) - set(fields)
            if unknown:
                raise TypeError(f"Unknown MediaLimit field(s) {sorted(unknown)} for {name!r}")
            fields.update(value)
            limits[name] = MediaLimit(**fields)
        else:
            raise TypeError(f"media_limits[{name!r}] must be a MediaLimit or a dict, got {value!r}")
    return limits


def too_large(fmt: str, limit: int) -> HTTPException:
    return HTTPException(413, f"Request body larger than the {limit}-byte limit for {fmt}")


def too_many(fmt: str, limit: int) -> HTTPException:
    return HTTPException(413, f"Request body has more than the {limit} values allowed for {fmt}")


# -- bounded decoders ------------------------------------------------------------------


def check_json_items(body: bytes, max_items: int | None) -> None:
    """413 when ``body`` may hold ``max_items`` values or more (an upper bound
    counted at memchr speed, before any decoder builds anything)."""
    if max_items is not None and len(body) > max_items:
        count = body.count(b",") + body.count(b"{") + body.count(b"[")
        if count >= max_items:
            raise too_many("JSON", max_items)


def decode_json(body: bytes, max_items: int | None) -> Any:
    check_json_items(body, max_items)
    return _formats.json_loads(body)


#: Largest JSON body handed whole to a one-pass validator (``Request._json_source``);
#: larger ones are decoded the usual way (off the event loop past ``OFF_LOOP_THRESHOLD``).
JSON_SOURCE_MAX = 16 * KIB


def json_checked(body: bytes, max_items: int | None) -> bool:
    """Whether a one-pass validator may parse ``body`` as the JSON decoder
    would: within the value limit (413 otherwise), and without ``NaN`` or
    ``Infinity``, which pydantic's parser takes and orjson refuses as not JSON
    (such a body goes the usual way, to get the usual 400)."""
    if max_items is not None and len(body) > max_items:
        check_json_items(body, max_items)
    return b"NaN" not in body and b"Infinity" not in body


def decode_msgpack(body: bytes, max_items: int | None) -> Any:
    if max_items is None or len(body) <= max_items:
        return _formats.msgpack_loads(body)
    seen = 0

    def counted(value: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen > max_items:
            raise too_many("MessagePack", max_items)
        return value

    # No single map or array may claim more entries than the limit either
    # (msgpack refuses those headers before building anything).
    try:
        return _formats.msgpack_loads(body, object_hook=counted, list_hook=counted,
                             max_array_len=max_items, max_map_len=max_items)
    except HTTPException as exc:
        if exc.status_code == 400 and "exceeds max_" in str(exc.detail):
            raise too_many("MessagePack", max_items) from None
        raise


def decode_yaml(body: bytes, max_items: int | None) -> Any:
    from .formats import yaml_loads

    return yaml_loads(body, max_nodes=max_items)


DECODERS: dict[str, Callable[[bytes, int | None], Any]] = {
    "json": decode_json,
    "yaml": decode_yaml,
    "msgpack": decode_msgpack,
}


async def decode(fmt: str, body: bytes, limit: MediaLimit) -> Any:
    """Decode ``body`` as ``fmt`` within ``limit``; large bodies off the event loop."""
    if limit.max_size is not None and len(body) > limit.max_size:
        raise too_large(fmt, limit.max_size)
    decoder = DECODERS[fmt]
    if len(body) <= OFF_LOOP_THRESHOLD:
        return decoder(body, limit.max_items)
    from .concurrency import run_sync

    return await run_sync(decoder, body, limit.max_items)


# -- the media_formats= route option ----------------------------------------------------


def route_option(route: Route, value: Iterable[str] | str) -> None:
    """``@app.route(path, media_formats=["json"])``: the formats ``req.media()``
    decodes by ``Content-Type`` on this route (others: 415)."""
    from .endpoints import PHASE_BEFORE

    formats = check_media_formats(value)
    route.spec.meta["media_formats"] = formats

    async def set_formats(req: Any, resp: Any, kwargs: dict[str, Any]) -> None:
        req.scope[SCOPE_FORMATS_KEY] = formats

    route.spec.add_step(set_formats, PHASE_BEFORE - 100)


def route_formats(route: Any, default: frozenset[str]) -> frozenset[str]:
    """The formats a matched route decodes (its ``media_formats=``, else ``default``)."""
    spec = getattr(route, "spec", None)
    formats = spec.meta.get("media_formats") if spec is not None else None
    return formats if formats is not None else default
