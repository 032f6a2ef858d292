"""The TypeScript client: one module, interfaces and type aliases for the
models, a ``Client`` class on ``fetch`` with one async method per
operation, and ``ApiError`` for error statuses. No imports: it needs a
runtime with ``fetch``, ``FormData`` and ``Blob`` (browsers, Node 18+, Deno,
Bun); ``tsc --strict`` accepts it."""

from __future__ import annotations

import json
import re

from .model import ANY, ClientModel, Model, Operation, TypeRef, camel, unique

__all__ = ["render_typescript"]

RESERVED = frozenset([
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
    "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import",
    "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
    "typeof", "var", "void", "while", "with", "as", "implements", "interface", "let", "package",
    "private", "protected", "public", "static", "yield", "any", "boolean", "number", "string",
    "symbol", "unknown", "never", "object", "undefined", "await", "async", "type", "of",
])
IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")

RUNTIME = '''
/** An error response (status 400 or more): its status, decoded body (JSON, else text) and headers. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;

  constructor(status: number, body: unknown, headers: Headers, method: string, path: string) {
    super(`${method} ${path} answered ${status}: ${JSON.stringify(body)}`.slice(0, 500));
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export interface ClientOptions {
  /** The API's address, such as "http://127.0.0.1:8000" (no trailing slash needed). */
  baseUrl?: string;
  /** Headers sent with every request: an API key, "Authorization: Bearer ...". */
  headers?: Record<string, string>;
  /** Another fetch (for tests, or a runtime without a global one). */
  fetch?: typeof fetch;
}

type Scalar = string | number | boolean;

function text(value: Scalar): string {
  return String(value);
}

async function decode(response: Response): Promise<unknown> {
  const raw = await response.text();
  if (raw === "") {
    return null;
  }
  const media = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (media === "application/json" || media.endsWith("+json")) {
    return JSON.parse(raw) as unknown;
  }
  return raw;
}

interface RequestParts {
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  json?: unknown;
  form?: object;
  multipart?: object;
  content?: Blob;
}

function append(search: URLSearchParams, name: string, value: unknown): void {
  if (value === undefined || value === null) {
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      append(search, name, item);
    }
    return;
  }
  search.append(name, text(value as Scalar));
}
'''

CLIENT = '''
export class Client {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetcher: typeof fetch;

  constructor(options: ClientOptions | string = {}) {
    const settings: ClientOptions = typeof options === "string" ? { baseUrl: options } : options;
    this.baseUrl = (settings.baseUrl ?? "").replace(/\\/+$/, "");
    this.headers = { ...(settings.headers ?? {}) };
    this.fetcher = settings.fetch ?? ((input, init) => fetch(input, init));
  }

  private async request(method: string, path: string, parts: RequestParts = {}): Promise<unknown> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(parts.query ?? {})) {
      append(search, name, value);
    }
    const query = search.toString();
    const headers: Record<string, string> = { ...this.headers };
    for (const [name, value] of Object.entries(parts.headers ?? {})) {
      if (value !== undefined && value !== null) {
        headers[name] = text(value as Scalar);
      }
    }
    let body: BodyInit | undefined;
    if (parts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(parts.json);
    } else if (parts.form !== undefined) {
      const form = new URLSearchParams();
      for (const [name, value] of Object.entries(parts.form)) {
        append(form, name, value);
      }
      body = form;
    } else if (parts.multipart !== undefined) {
      const form = new FormData();
      for (const [name, value] of Object.entries(parts.multipart)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item instanceof Blob) {
            form.append(name, item, typeof File !== "undefined" && item instanceof File ? item.name : name);
          } else if (item !== undefined && item !== null) {
            form.append(name, text(item as Scalar));
          }
        }
      }
      body = form;
    } else if (parts.content !== undefined) {
      body = parts.content;
    }
    const response = await this.fetcher(this.baseUrl + path + (query ? `?${query}` : ""),
                                         { method, headers, body });
    const decoded = await decode(response);
    if (response.status >= 400) {
      throw new ApiError(response.status, decoded, response.headers, method, path);
    }
    return decoded;
  }
'''


def _string(value: str) -> str:
    return json.dumps(value)


def _property(name: str) -> str:
    return name if IDENTIFIER.match(name) else _string(name)


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    lines = text.strip().replace("*/", "*\\/").splitlines()
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**", *[f"{indent} * {line}".rstrip() for line in lines], f"{indent} */"]


class _Renderer:
    def __init__(self, model: ClientModel) -> None:
        self.client = model
        self.used = {"ApiError", "Client", "ClientOptions", "Scalar", "RequestParts"} | RESERVED
        self.names = {item.name: unique(item.name, self.used) for item in model.models}

    def type(self, ref: TypeRef, nested: bool = False) -> str:
        kind = ref.kind
        if kind == "any":
            return "unknown"
        simple = {"str": "string", "int": "number", "float": "number", "bool": "boolean",
                  "binary": "Blob", "null": "null"}
        if kind in simple:
            return simple[kind]
        if kind == "ref":
            return self.names[ref.name]
        if kind == "list":
            return f"{self.type(ref.items[0], nested=True)}[]"
        if kind == "dict":
            return f"Record<string, {self.type(ref.items[0])}>"
        if kind == "literal":
            text = " | ".join(_string(v) if isinstance(v, str) else str(v) for v in ref.values)
            return f"({text})" if nested and len(ref.values) > 1 else text
        if kind == "union":
            text = " | ".join(self.type(item, nested=True) for item in ref.items)
            return f"({text})" if nested else text
        return "unknown"

    def model(self, item: Model) -> list[str]:
        name = self.names[item.name]
        lines = _comment(item.description, "")
        if item.alias is not None:
            return [*lines, f"export type {name} = {self.type(item.alias)};"]
        if not item.fields:
            return [*lines, f"export type {name} = Record<string, unknown>;"]
        lines.append(f"export interface {name} {{")
        for field in item.fields:
            lines += _comment(field.description, "  ")
            optional = "" if field.required else "?"
            lines.append(f"  {_property(field.wire)}{optional}: {self.type(field.type)};")
        if item.open:
            lines.append("  [key: string]: unknown;")
        lines.append("}")
        return lines

    def operation(self, op: Operation) -> list[str]:
        # Names the method's body uses, which a parameter must not shadow.
        taken = {"query", "options", "parts", "text", "encodeURIComponent", "fetch", "append",
                 "decode", "ApiError"}
        method_name = camel(op.operation_id)
        if method_name in ("request", "constructor", "baseUrl", "headers", "fetcher"):
            method_name = f"{method_name}Operation"
        args: list[str] = []
        path_args: dict[str, str] = {}
        query: list[tuple[str, str, bool]] = []
        headers: list[tuple[str, str, bool]] = []
        cookies: list[tuple[str, str, bool]] = []
        for parameter in op.parameters:
            if parameter.location == "path":
                name = camel(parameter.wire)
                if name in RESERVED:
                    name = f"{name}_"
                name = unique(name, taken)
                path_args[parameter.wire] = name
                args.append(f"{name}: {self.type(parameter.type)}")
                continue
            target = {"query": query, "header": headers, "cookie": cookies}[parameter.location]
            target.append((parameter.wire, self.type(parameter.type), parameter.required))
        body_arg = None
        if op.body_kind is not None:
            body_arg = unique("body", taken)
            annotation = "Blob" if op.body_kind == "raw" else self.type(op.body_type)
            args.append(f"{body_arg}{'' if op.body_required else '?'}: {annotation}")
        options = [*query, *headers, *cookies]
        if options:
            fields = "; ".join(f"{_property(wire)}{'' if required else '?'}: {annotation}"
                               for wire, annotation, required in options)
            required = any(required for *_, required in options)
            args.append(f"options: {{ {fields} }}{'' if required else ' = {}'}")
        path = op.path
        for wire, name in path_args.items():
            path = path.replace("{" + wire + "}", "${encodeURIComponent(text(" + name + "))}")
        path_code = "`" + path.replace("`", "\\`") + "`"
        result = "void" if op.result.kind == "null" else self.type(op.result)
        doc = "\n\n".join(part for part in (op.summary, op.description) if part)
        text_ = f"{op.method.upper()} {op.path}" + (f": {doc}" if doc else "")
        if op.deprecated:
            text_ += "\n\n@deprecated"
        lines = _comment(text_, "  ")
        lines.append(f"  async {method_name}({', '.join(args)}): Promise<{result}> {{")
        parts = []
        if query:
            parts.append("query: { " + ", ".join(f"{_string(w)}: options[{_string(w)}]"
                                                 for w, *_ in query) + " }")
        header_entries = [f"{_string(w)}: options[{_string(w)}]" for w, *_ in headers]
        if cookies:
            joined = " + '; ' + ".join(f"{_string(w + '=')} + String(options[{_string(w)}])"
                                       for w, *_ in cookies)
            present = " && ".join(f"options[{_string(w)}] !== undefined" for w, *_ in cookies)
            header_entries.append(f'"Cookie": {present} ? {joined} : undefined')
        if header_entries:
            parts.append("headers: { " + ", ".join(header_entries) + " }")
        if body_arg is not None:
            key = {"json": "json", "multipart": "multipart", "form": "form",
                   "raw": "content"}[op.body_kind or "json"]
            parts.append(f"{key}: {body_arg}")
        call = f"this.request({_string(op.method.upper())}, {path_code}" + \
            (f", {{ {', '.join(parts)} }})" if parts else ")")
        if op.result.kind == "null":
            lines.append(f"    await {call};")
        elif op.result == ANY:
            lines.append(f"    return {call};")
        else:
            lines.append(f"    return (await {call}) as {result};")
        lines.append("  }")
        return lines

    def render(self) -> str:
        title = f"{self.client.title} {self.client.version}".strip()
        out = [f"// A client for {title}, generated by dyne from its OpenAPI document.",
               "// Do not edit: run `dyne client --lang typescript` again when the API changes.",
               "// Needs fetch, FormData and Blob (browsers, Node 18+, Deno, Bun).",
               "/* eslint-disable */"]
        out.append(RUNTIME.rstrip("\n"))
        for item in self.client.models:
            out += ["", *self.model(item)]
        out.append(CLIENT.rstrip("\n"))
        for op in self.client.operations:
            out += ["", *self.operation(op)]
        out.append("}")
        return "\n".join(out) + "\n"


def render_typescript(model: ClientModel) -> str:
    """The source of the TypeScript client module for ``model``."""
    return _Renderer(model).render()
