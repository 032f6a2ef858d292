"""``@app.route(..., request_model=Model, response_model=Model)``, as in
Responder: route options registered in ``dyne.endpoints`` and imported only
when a route uses them.

* ``request_model`` validates the body of every request but GET, HEAD and
  OPTIONS. Invalid input is a ``422`` with FastAPI-style details
  ``{"detail": [{"loc": ["body", "price"], "msg": "...", "type": "..."}]}``;
  valid input replaces the decoded body, so ``await req.media()`` (or
  ``req.media()``) gives the validated, coerced data.
* ``response_model`` passes what the view put in ``resp.media`` (or
  ``resp.obj``) through the model: unknown fields are dropped, values are
  coerced, objects are read by attribute. A response that does not fit is a
  server error (500).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dyne.endpoints import PHASE_INPUT, PHASE_OUTPUT
from dyne.exceptions import HTTPException

from .adapter import ADAPTER

if TYPE_CHECKING:
    from dyne.request import Request
    from dyne.response import Response
    from dyne.routing import Route

__all__ = ["request_model", "response_model"]

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_model(option: str, value: Any) -> None:
    if not ADAPTER.accepts(value):
        raise TypeError(f"{option}= needs a pydantic model (or a type pydantic can validate), "
                        f"got {value!r}")


def request_model(route: Route, value: Any) -> None:
    """Validate request bodies with ``value``; 422 with details when invalid."""
    _check_model("request_model", value)
    adapter = ADAPTER.type_adapter(value)
    validate = adapter.validate_python
    dump = adapter.dump_python

    async def validate_request_body(req: Request, resp: Response, kwargs: dict[str, Any]) -> None:
        if req.method in _BODYLESS_METHODS:
            return
        body = await req.media()
        try:
            validated = dump(validate(body))
        except ValidationError as exc:
            details = [{"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
                       for error in exc.errors(include_url=False)]
            raise HTTPException(422, {"detail": details}) from None
        # The decoded body is cached by the request: update it in place so the
        # view's req.media() returns the validated data.
        if isinstance(body, dict) and isinstance(validated, dict):
            body.clear()
            body.update(validated)
        elif isinstance(body, list) and isinstance(validated, list):
            body[:] = validated

    route.spec.meta["io.request_model"] = value
    route.spec.add_step(validate_request_body, PHASE_INPUT)


def response_model(route: Route, value: Any) -> None:
    """Filter and coerce the response body through ``value``."""
    _check_model("response_model", value)
    dump = ADAPTER.dumper(value)

    async def filter_response(req: Request, resp: Response) -> None:
        if resp.obj is not None:
            resp.media = dump(resp.obj)
        elif resp.media is not None:
            resp.media = dump(resp.media)

    route.spec.meta["io.response_model"] = value
    route.spec.add_after(filter_response, PHASE_OUTPUT)
