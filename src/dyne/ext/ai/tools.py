"""``@tool``: methods of an ``AiInterface`` the model may call.

The JSON schema of a tool's arguments comes from its signature (the types,
defaults and required parameters, through pydantic) and its docstring (the
first paragraph describes the tool; ``Args:`` lines or ``:param x:`` fields
describe the arguments). The same pydantic model validates the arguments
the model sends.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ToolSpec", "tool"]

TOOL_ATTRIBUTE = "__dyne_ai_tool__"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


@dataclass
class ToolSpec:
    """What ``@tool`` recorded about a method."""

    name: str
    description: str
    function: Callable[..., Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    arguments_model: Any = None
    enabled: bool = True

    def openai_tool(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


def tool(func: Callable[..., Any] | None = None, *, name: str | None = None,
         description: str | None = None, enabled: bool = True) -> Any:
    """Expose a method of an ``AiInterface`` subclass to the model, as
    ``@tool`` or ``@tool(name="...", description="...")``. Without a name
    the method's name is used; without a description, its docstring."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        setattr(function, TOOL_ATTRIBUTE, build_spec(function, name, description, enabled))
        return function

    return decorate(func) if func is not None else decorate


def _docstring_parts(function: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    doc = inspect.getdoc(function) or ""
    summary = doc.split("\n\n", 1)[0].strip().replace("\n", " ")
    described: dict[str, str] = {}
    for match in re.finditer(r":param\s+(\w+):\s*(.+)", doc):
        described[match.group(1)] = match.group(2).strip()
    section = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.+\n?)+)", doc, re.MULTILINE)
    if section:
        for match in re.finditer(r"^[ \t]+(\w+)(?:\s*\([^)]*\))?:\s*(.+)$", section.group(1), re.MULTILINE):
            described.setdefault(match.group(1), match.group(2).strip())
    return summary, described


def build_spec(function: Callable[..., Any], name: str | None, description: str | None,
               enabled: bool = True) -> ToolSpec:
    from pydantic import ConfigDict, Field, create_model

    tool_name = name or function.__name__
    if not _NAME.match(tool_name):
        raise ValueError(f"Tool name {tool_name!r}: use 1-64 letters, digits, '_' or '-'")
    summary, described = _docstring_parts(function)
    hints = typing.get_type_hints(function)
    fields: dict[str, Any] = {}
    parameters = list(inspect.signature(function).parameters.values())
    for parameter in parameters[1:]:  # skip self
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"Tool {tool_name}: *args and **kwargs cannot be described to a model")
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (annotation, Field(default, description=described.get(parameter.name)))
    model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return ToolSpec(tool_name, description or summary or tool_name, function, schema, model, enabled)
