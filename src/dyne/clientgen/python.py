"""The Python client: one module, TypedDict models, a ``Client`` class on
httpx with one method per operation (and ``AsyncClient``, the same as
coroutines), and ``ApiError`` for error statuses.
It imports nothing from dyne; ``mypy --strict`` accepts it."""

from __future__ import annotations

import keyword

from .model import ANY, NULL, ClientModel, Model, Operation, TypeRef, python_identifier, snake, unique

__all__ = ["render_python"]

RUNTIME = '''

class ApiError(Exception):
    """An error response (status 400 or more): ``status``, the decoded
    ``body`` (JSON, else text) and the ``response`` itself."""

    def __init__(self, status: int, body: Any, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path} "
                         f"answered {status}: {body!r}"[:500])
        self.status = status
        self.body = body
        self.response = response


#: A file to upload: its content, or (filename, content) or (filename, content, content type).
FileUpload: TypeAlias = "bytes | tuple[str, bytes] | tuple[str, bytes, str]"


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return response.json()
    return response.text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path(value: Any) -> str:
    return quote(_text(value), safe="")


def _query(values: dict[str, Any]) -> httpx.QueryParams:
    pairs: list[tuple[str, Any]] = []
    for name, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((name, _text(item)))
    return httpx.QueryParams(pairs)


def _multipart(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    data: dict[str, Any] = {}
    files: list[tuple[str, Any]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (bytes, tuple)):
                files.append((name, item))
            elif item is not None:
                data.setdefault(name, []).append(_text(item))
    return data, files


def _options(query: dict[str, Any] | None, headers: dict[str, Any] | None, json: Any,
             form: Mapping[str, Any] | None, multipart: Mapping[str, Any] | None,
             content: bytes | None) -> dict[str, Any]:
    """The keyword arguments of ``httpx``'s ``request`` for one operation."""
    options: dict[str, Any] = {
        "params": _query(query or {}),
        "headers": {name: _text(value) for name, value in (headers or {}).items() if value is not None},
    }
    if json is not None:
        options["json"] = json
    if form is not None:
        options["data"] = {name: [_text(v) for v in (value if isinstance(value, list) else [value])]
                           for name, value in form.items() if value is not None}
    if multipart is not None:
        options["data"], options["files"] = _multipart(multipart)
    if content is not None:
        options["content"] = content
    return options
'''

CLIENT = '''

class Client:
    """``Client("http://127.0.0.1:8000")``; ``headers`` are sent with every
    request (an API key, a bearer token), ``auth`` is httpx's (a
    ``(user, password)`` pair for HTTP Basic). Give ``http_client`` to reuse
    an ``httpx.Client`` of your own (its base URL is then yours to set)."""

    def __init__(self, base_url: str = "", *, headers: Mapping[str, str] | None = None,
                 auth: httpx.Auth | tuple[str, str] | None = None, timeout: float = 30.0,
                 http_client: httpx.Client | None = None) -> None:
        self._owned = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(
            base_url=base_url, headers=dict(headers or {}), auth=auth, timeout=timeout)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                 headers: dict[str, Any] | None = None, json: Any = None,
                 form: Mapping[str, Any] | None = None, multipart: Mapping[str, Any] | None = None,
                 content: bytes | None = None) -> Any:
        options = _options(query, headers, json, form, multipart, content)
        response = self._http.request(method, path, **options)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _decode(response), response)
        return _decode(response)
'''

ASYNC_CLIENT = '''

class AsyncClient:
    """``Client``'s methods as coroutines, on ``httpx.AsyncClient``:
    ``async with AsyncClient("http://127.0.0.1:8000") as client: await ...``."""

    def __init__(self, base_url: str = "", *, headers: Mapping[str, str] | None = None,
                 auth: httpx.Auth | tuple[str, str] | None = None, timeout: float = 30.0,
                 http_client: httpx.AsyncClient | None = None) -> None:
        self._owned = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(
            base_url=base_url, headers=dict(headers or {}), auth=auth, timeout=timeout)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                 headers: dict[str, Any] | None = None, json: Any = None,
                 form: Mapping[str, Any] | None = None, multipart: Mapping[str, Any] | None = None,
                 content: bytes | None = None) -> Any:
        options = _options(query, headers, json, form, multipart, content)
        response = await self._http.request(method, path, **options)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _decode(response), response)
        return _decode(response)
'''


def _literal(value: object) -> str:
    return repr(value)


class _Renderer:
    def __init__(self, model: ClientModel) -> None:
        self.client = model
        self.used = {"Any", "TypeAlias", "TypedDict", "NotRequired", "Literal", "cast", "Mapping",
                     "httpx", "quote", "ApiError", "FileUpload", "Client", "AsyncClient"}
        self.names: dict[str, str] = {}
        for item in model.models:
            name = item.name if item.name not in self.used and not keyword.iskeyword(item.name) \
                else f"{item.name}Model"
            self.names[item.name] = unique(name, self.used)

    def type(self, ref: TypeRef) -> str:
        kind = ref.kind
        if kind == "any":
            return "Any"
        if kind in ("str", "int", "float", "bool"):
            return kind
        if kind == "binary":
            return "FileUpload"
        if kind == "null":
            return "None"
        if kind == "ref":
            return self.names[ref.name]
        if kind == "list":
            return f"list[{self.type(ref.items[0])}]"
        if kind == "dict":
            return f"dict[str, {self.type(ref.items[0])}]"
        if kind == "literal":
            return f"Literal[{', '.join(_literal(v) for v in ref.values)}]"
        if kind == "union":
            return " | ".join(self.type(item) for item in ref.items)
        return "Any"

    def optional(self, ref: TypeRef) -> str:
        """``ref`` or None."""
        text = self.type(ref)
        if ref.kind == "any" or ref.kind == "null" or (ref.kind == "union" and NULL in ref.items):
            return text
        return f"{text} | None"

    def model(self, item: Model) -> list[str]:
        name = self.names[item.name]
        doc = _docstring(item.description, "    ")
        if item.alias is not None:
            lines = [f"{name}: TypeAlias = {self.type(item.alias)!r}"]
            if item.description:
                lines.append(f"# {item.name}: " + " ".join(item.description.split())[:200])
            return lines
        if not item.fields:
            return [f"{name}: TypeAlias = 'dict[str, Any]'"]
        entries = [(f.wire, self.type(f.type) if f.required else f"NotRequired[{self.type(f.type)}]")
                   for f in item.fields]
        if all(python_identifier(wire) for wire, _ in entries):
            lines = [f"class {name}(TypedDict):"]
            if doc:
                lines.append(doc)
            lines += [f"    {wire}: {annotation}" for wire, annotation in entries]
            return lines
        # Functional syntax (keys that are not identifiers); forward references
        # quoted, NotRequired outside the quotes so that it counts at run time too.
        body = ", ".join(f"{f.wire!r}: {self.type(f.type)!r}" if f.required
                         else f"{f.wire!r}: NotRequired[{self.type(f.type)!r}]" for f in item.fields)
        return [f"{name} = TypedDict({name!r}, {{{body}}})"]

    def operation(self, op: Operation, is_async: bool = False) -> list[str]:
        # Names the method's body uses, which a parameter must not shadow.
        taken = {"self", "query", "headers", "cookies", "response", "multipart", "form", "json",
                 "cast", "httpx", "quote", "Any"}
        method_name = snake(op.operation_id)
        if not python_identifier(method_name) or method_name.startswith("_") \
                or method_name in ("close", "aclose", "request"):
            method_name = f"{method_name}_"
        required: list[str] = []
        optional: list[str] = []
        path_code = repr(op.path)
        path_args: dict[str, str] = {}
        query: list[tuple[str, str]] = []
        headers: list[tuple[str, str]] = []
        cookies: list[tuple[str, str]] = []
        for parameter in op.parameters:
            name = snake(parameter.wire)
            if not python_identifier(name):
                name = f"{name}_"
            name = unique(name, taken)
            annotation = self.type(parameter.type)
            if parameter.location == "path":
                path_args[parameter.wire] = name
                required.append(f"{name}: {annotation}")
                continue
            if parameter.required:
                required.append(f"{name}: {annotation}")
            else:
                optional.append(f"{name}: {self.optional(parameter.type)} = None")
            target = {"query": query, "header": headers, "cookie": cookies}[parameter.location]
            target.append((parameter.wire, name))
        body_name = None
        if op.body_kind is not None:
            body_name = unique("body", taken)
            annotation = "bytes" if op.body_kind == "raw" else self.type(op.body_type)
            if op.body_required:
                required.insert(len(path_args), f"{body_name}: {annotation}")
            else:
                kind = f"{annotation} | None" if op.body_kind == "raw" else self.optional(op.body_type)
                optional.insert(0, f"{body_name}: {kind} = None")
        if path_args:
            pieces = op.path
            for wire, name in path_args.items():
                pieces = pieces.replace("{" + wire + "}", "{_path(" + name + ")}")
            path_code = "f" + repr(pieces)
        positional = list(required)
        signature = ", ".join(["self", *positional, *(["*", *optional] if optional else [])])
        result = self.type(op.result)
        lines = [f"    {'async ' if is_async else ''}def {method_name}({signature}) -> {result}:"]
        doc = "\n\n".join(part for part in (op.summary, op.description) if part)
        text = f"{op.method.upper()} {op.path}" + (f": {doc}" if doc else "")
        if op.deprecated:
            text += "\n\nDeprecated."
        lines.append(_docstring(text, "        "))
        call = [f"{op.method.upper()!r}", path_code]
        if query:
            call.append("query={" + ", ".join(f"{wire!r}: {name}" for wire, name in query) + "}")
        if cookies:
            header = " + '; ' + ".join(f"{wire + '='!r} + _text({name})" for wire, name in cookies)
            cookie_names = " and ".join(f"{name} is not None" for _, name in cookies)
            headers.append(("Cookie", f"({header}) if {cookie_names} else None"))
        if headers:
            call.append("headers={" + ", ".join(f"{wire!r}: {name}" for wire, name in headers) + "}")
        if body_name is not None:
            keyword_name = {"json": "json", "multipart": "multipart", "form": "form", "raw": "content"}
            call.append(f"{keyword_name[op.body_kind or 'json']}={body_name}")
        invocation = f"{'await ' if is_async else ''}self._request({', '.join(call)})"
        if op.result == ANY:
            lines.append(f"        return {invocation}")
        elif op.result.kind == "null":
            lines.append(f"        {invocation}")
        else:
            lines.append(f"        return cast({result!r}, {invocation})")
        return lines

    def render(self) -> str:
        title = f"{self.client.title} {self.client.version}".strip()
        out = [f'"""A client for {title}, generated by dyne from its OpenAPI document.',
               "",
               "Do not edit: run ``dyne client --lang python`` again when the API changes.",
               "Needs httpx only. ``Client`` is synchronous, ``AsyncClient`` the same with coroutines.",
               '"""',
               "",
               "from __future__ import annotations",
               "",
               "from collections.abc import Mapping",
               "from typing import Any, Literal, NotRequired, TypeAlias, TypedDict, cast",
               "from urllib.parse import quote",
               "",
               "import httpx",
               "",
               "__all__ = [" + ", ".join(repr(n) for n in ["ApiError", "AsyncClient", "Client", "FileUpload",
                                                         *self.names.values()]) + "]",
               ]
        out.append(RUNTIME.rstrip("\n"))
        for item in self.client.models:
            out += ["", "", *self.model(item)]
        out.append(CLIENT.rstrip("\n"))
        for op in self.client.operations:
            out += [""] + [line for line in self.operation(op) if line]
        out.append(ASYNC_CLIENT.rstrip("\n"))
        for op in self.client.operations:
            out += [""] + [line for line in self.operation(op, is_async=True) if line]
        return "\n".join(out) + "\n"


def _docstring(text: str | None, indent: str) -> str:
    if not text:
        return ""
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = "\n".join((indent + line) if line.strip() else "" for line in text.splitlines())
    return f'{indent}"""{body[len(indent):]}\n{indent}"""' if "\n" in text else f'{indent}"""{text}"""'


def render_python(model: ClientModel) -> str:
    """The source of the Python client module for ``model``."""
    return _Renderer(model).render()
