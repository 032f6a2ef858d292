"""Body codecs and content negotiation.

Request bodies are decoded by format name (``"json"``, ``"yaml"``,
``"msgpack"``, ``"form"``, ``"files"``) or, when no name is given, by the
request's ``Content-Type``. ``resp.media`` is encoded as JSON unless the
client's ``Accept`` header prefers YAML or MessagePack.

JSON goes through ``orjson``. YAML is loaded with PyYAML's safe loader with
anchors and aliases refused (no "billion laughs"). MessagePack keys must be
strings. Anything a client sends that cannot be decoded raises
``HTTPException(400)`` with a message that says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from .encoders import DefaultEncoder, base_default, make_default
from .exceptions import HTTPException

__all__ = [
    "JSON",
    "MSGPACK",
    "YAML",
    "Encoders",
    "format_for_content_type",
    "json_dumps",
    "json_loads",
    "negotiate",
    "parse_accept",
]

JSON = "application/json"
YAML = "application/x-yaml"
MSGPACK = "application/x-msgpack"

#: Content types a request body may declare, mapped to the format that decodes it.
CONTENT_TYPE_FORMATS: dict[str, str] = {
    "application/json": "json",
    "text/json": "json",
    "application/x-yaml": "yaml",
    "application/yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/x-msgpack": "msgpack",
    "application/msgpack": "msgpack",
    "application/vnd.msgpack": "msgpack",
    "application/x-www-form-urlencoded": "form",
    "multipart/form-data": "form",
}

#: Accept media ranges we can answer, mapped to (format, content type sent).
_ACCEPT_FORMATS: dict[str, tuple[str, str]] = {
    "application/json": ("json", JSON),
    "text/json": ("json", JSON),
    "application/x-yaml": ("yaml", YAML),
    "application/yaml": ("yaml", YAML),
    "text/yaml": ("yaml", YAML),
    "text/x-yaml": ("yaml", YAML),
    "application/x-msgpack": ("msgpack", MSGPACK),
    "application/msgpack": ("msgpack", MSGPACK),
    "application/vnd.msgpack": ("msgpack", MSGPACK),
}

#: The fallback for objects orjson does not know (see ``dyne.encoders``).
_default = base_default


_orjson: Any = None
_dumps_option = 0


def _load_orjson() -> Any:
    """Import orjson on first use (it is slow to import: tens of ms) and keep it,
    so the per-call cost is one global lookup rather than an import statement."""
    global _orjson, _dumps_option
    import orjson

    _dumps_option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    _orjson = orjson
    return orjson


def json_dumps(obj: Any, default: Callable[[Any], Any] = _default) -> bytes:
    """Serialize ``obj`` to JSON bytes (orjson, non-string keys allowed).
    ``default`` encodes what orjson does not know (an app's ``json_encoders``
    go there); an object nothing knows is a ``TypeError`` naming its type."""
    orjson = _orjson or _load_orjson()
    try:
        return orjson.dumps(obj, default=default, option=_dumps_option)
    except TypeError as exc:
        if "Integer exceeds" not in str(exc):
            cause = exc.__cause__
            # orjson's own message does not say how to fix it; the fallback's does.
            if isinstance(cause, TypeError) and "json_encoders" in str(cause):
                raise cause from None
            raise
    # orjson stops at 64-bit integers; the standard library does not.
    import json

    return json.dumps(obj, default=default, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def json_loads(data: bytes | str) -> Any:
    """Parse JSON, raising ``HTTPException(400)`` on malformed input."""
    orjson = _orjson or _load_orjson()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"Malformed JSON body: {exc}") from None


def json_for_script(value: Any) -> str:
    """JSON that is safe to embed in an HTML ``<script>`` element: no
    ``</script>``, no ``<!--``, no line separators that end a JavaScript string."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# -- YAML -------------------------------------------------------------------

def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_loads(data: bytes | str, max_nodes: int | None = None) -> Any:
    """Parse YAML safely, raising ``HTTPException(400)`` on malformed input.

    Anchors and aliases are refused: they let a tiny document expand into an
    enormous one. With ``max_nodes``, a document of more nodes (scalars,
    mappings, sequences) is refused with 413 while it is being scanned, before
    anything is built. The event scan runs in PyYAML's C parser when available.
    """
    import yaml

    loader = _yaml_loader()
    alias, node_events = yaml.AliasEvent, (yaml.ScalarEvent, yaml.CollectionStartEvent)
    nodes = 0
    try:
        for event in yaml.parse(data, Loader=loader):
            if isinstance(event, node_events):
                nodes += 1
                if max_nodes is not None and nodes > max_nodes:
                    raise HTTPException(413, f"Request body has more than the {max_nodes} "
                                             "values allowed for YAML")
            elif isinstance(event, alias):
                raise HTTPException(400, "Malformed YAML body: aliases are not accepted")
        return yaml.load(data, Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError, TypeError) as exc:
        raise HTTPException(400, f"Malformed YAML body: {exc}") from None


def _yaml_representable(obj: Any, default: Callable[[Any], Any] = _default) -> Any:
    """Reduce ``obj`` to plain types by a JSON round trip, so that everything
    JSON can encode (dataclasses, datetimes, pydantic models...) YAML can too."""
    return json_loads(json_dumps(obj, default))


_yaml_dumper: Any = None


def yaml_dumps(obj: Any, default: Callable[[Any], Any] = _default) -> bytes:
    global _yaml_dumper
    import yaml

    if _yaml_dumper is None:
        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        # Repeated objects are written out again, not as &anchors/*aliases,
        # which many YAML consumers refuse (as we do on input).
        _yaml_dumper = type("NoAliasDumper", (base,), {"ignore_aliases": lambda self, data: True})
    try:
        text = yaml.dump(obj, Dumper=_yaml_dumper, sort_keys=False, allow_unicode=True)
    except yaml.representer.RepresenterError:
        text = yaml.dump(_yaml_representable(obj, default), Dumper=_yaml_dumper, sort_keys=False,
                         allow_unicode=True)
    return text.encode("utf-8")


# -- MessagePack -----------------------------------------------------------------

def msgpack_loads(data: bytes, **options: Any) -> Any:
    """Parse MessagePack, raising ``HTTPException(400)`` on malformed input.
    ``options`` (``object_hook``, ``max_array_len``...) go to ``msgpack.unpackb``."""
    import msgpack

    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, **options)
    except (ValueError, TypeError, msgpack.UnpackException, msgpack.ExtraData,
            msgpack.FormatError, msgpack.StackError, RecursionError) as exc:
        raise HTTPException(400, f"Malformed MessagePack body: {exc}") from None


def msgpack_default(value: Any, default: Callable[[Any], Any] = _default) -> Any:
    """MessagePack's fallback: dataclasses as maps, the rest as JSON would encode it."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return json_loads(json_dumps(value, default))


def msgpack_dumps(obj: Any, hook: Callable[[Any], Any] = msgpack_default) -> bytes:
    """MessagePack bytes; ``hook`` encodes what msgpack does not know."""
    import msgpack

    return msgpack.packb(obj, default=hook, use_bin_type=True)


#: Decoders for the raw-body formats (form and files are parsed from the stream).
DECODERS: dict[str, Callable[[bytes], Any]] = {
    "json": json_loads,
    "yaml": yaml_loads,
    "msgpack": msgpack_loads,
}

#: Encoders by format, each returning bytes.
ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "json": json_dumps,
    "yaml": yaml_dumps,
    "msgpack": msgpack_dumps,
}

class Encoders:
    """The body encoders of one app, by format (``"json"``, ``"yaml"``,
    ``"msgpack"``), all with the same fallback ``default``."""

    __slots__ = ("by_format", "default", "json")

    def __init__(self, json_encoders: Mapping[type, Callable[[Any], Any]] | None = None) -> None:
        self.default: DefaultEncoder = make_default(json_encoders)
        if self.default is base_default:
            self.json: Callable[[Any], bytes] = json_dumps
            self.by_format: dict[str, Callable[[Any], bytes]] = ENCODERS
        else:
            self.json = partial(json_dumps, default=self.default)
            self.by_format = {
                "json": self.json,
                "yaml": partial(yaml_dumps, default=self.default),
                "msgpack": partial(msgpack_dumps,
                                   hook=partial(msgpack_default, default=self.default)),
            }


FORMATS = ("json", "yaml", "msgpack", "form", "files")


def format_for_content_type(mimetype: str) -> str | None:
    """The body format for a (parameter-free, lowercase) content type, or ``None``."""
    fmt = CONTENT_TYPE_FORMATS.get(mimetype)
    if fmt is None and mimetype.endswith("+json"):
        return "json"
    return fmt


# -- Negotiation -----------------------------------------------------------------

def q_value(params: list[str]) -> float:
    """The ``q`` weight among a header item's ``;``-separated parameters: 1.0
    when absent, 0.0 when malformed or outside 0..1 (the item is then refused)."""
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                quality = 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


def parse_accept(header: str) -> list[tuple[str, float]]:
    """Media ranges from an ``Accept`` header with their q-values, best first
    (ties keep the client's order)."""
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.split(";")
        media = pieces[0].strip().lower()
        if not media:
            continue
        quality = q_value(pieces[1:])
        ranges.append((-quality, position, media))
    ranges.sort()
    return [(media, -neg_q) for neg_q, _, media in ranges]


_negotiation_cache: dict[str, tuple[str, str]] = {}
_NEGOTIATION_CACHE_SIZE = 512
_DEFAULT_CHOICE = ("json", JSON)


def negotiate(accept: str | None) -> tuple[str, str]:
    """Pick ``(format, content type)`` for ``resp.media`` from an ``Accept`` header.

    JSON unless the client prefers YAML or MessagePack; a header naming nothing
    we can produce (``text/html``) still gets JSON rather than a 406, the way
    browsers expect.
    """
    if not accept or accept == "*/*" or accept == JSON:
        return _DEFAULT_CHOICE
    cached = _negotiation_cache.get(accept)
    if cached is not None:
        return cached
    choice = _DEFAULT_CHOICE
    for media, quality in parse_accept(accept):
        if quality <= 0:
            continue
        found = _ACCEPT_FORMATS.get(media)
        if found is not None:
            choice = found
            break
        if media in ("*/*", "application/*"):
            break
    if len(_negotiation_cache) >= _NEGOTIATION_CACHE_SIZE:
        _negotiation_cache.clear()
    _negotiation_cache[accept] = choice
    return choice
