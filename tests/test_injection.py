"""Handlers that read their signature (dyne.injection): markers, body models,
return annotations and Depends, compiled once per route."""

import asyncio
import dataclasses
from typing import Annotated

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import dyne
from dyne import Body, Cookie, Depends, File, Form, Header, Path, Query, UploadFile
from dyne.endpoints import compile_route
from dyne.ext.io.pydantic import input, output
from dyne.injection import compile_signature, is_model, register_model_detector

from .conftest import serve_in_thread


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)


class PublicUser(BaseModel):
    name: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Pair(TypedDict):
    left: str
    right: int


# -- query, header, cookie, path --------------------------------------------------------

def test_annotated_keyword_arguments_are_query_parameters(app):
    @app.route("/search")
    async def search(req, resp, *, q: str, limit: int = 10, tags: list[str] = Query([]),
                     exact: bool = False):
        return {"q": q, "limit": limit, "tags": tags, "exact": exact}

    client = app.client
    assert client.get("/search?q=a").json() == {"q": "a", "limit": 10, "tags": [], "exact": False}
    assert client.get("/search?q=a&limit=5&tags=x&tags=y&exact=true").json() == {
        "q": "a", "limit": 5, "tags": ["x", "y"], "exact": True}


def test_wrong_types_and_missing_values_are_400_in_the_shape_of_input(app):
    class Search(BaseModel):
        q: str
        limit: int = 10

    @app.route("/decorated")
    @input(Search, location="query")
    async def decorated(req, resp, *, query):
        return dict(query)

    @app.route("/signature")
    async def signature(req, resp, *, q: str, limit: int = 10):
        return {"q": q, "limit": limit}

    for url in ("?limit=ten", "?q=a&limit=1.5", "?q=a&limit="):
        old = app.client.get("/decorated" + url)
        new = app.client.get("/signature" + url)
        assert new.status_code == old.status_code == 400
        assert new.json() == old.json()
    assert app.client.get("/signature?limit=ten").json() == {"errors": {
        "q": ["Field required"],
        "limit": ["Input should be a valid integer, unable to parse string as an integer"]}}


@settings(max_examples=60, deadline=None)
@given(value=st.integers(min_value=-(10 ** 30), max_value=10 ** 30))
def test_integers_in_the_query_arrive_as_ints(value):
    app = dyne.App()

    @app.route("/")
    async def view(req, resp, *, n: int):
        return {"n": str(n), "type": type(n).__name__}

    assert app.client.get("/", params={"n": str(value)}).json() == {"n": str(value), "type": "int"}


_INT = None


def _as_int(text):
    from pydantic import TypeAdapter, ValidationError

    global _INT
    _INT = _INT or TypeAdapter(int)
    try:
        return _INT.validate_python(text)
    except ValidationError:
        return None


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
       | st.from_regex(r"\A[+-]?[0-9]{1,25}(\.0*)?\Z"))
def test_any_query_value_is_coerced_to_int_or_refused_with_400_never_500(text):
    app = dyne.App()

    @app.route("/")
    async def view(req, resp, *, n: int):
        return {"n": str(n)}

    response = app.client.get("/", params={"n": text})
    expected = _as_int(text)
    if expected is None:
        assert response.status_code == 400, (text, response.text)
        assert list(response.json()["errors"]) == ["n"]
    else:
        assert response.json() == {"n": str(expected)}


def test_huge_values_are_refused_with_400(app):
    @app.route("/")
    async def view(req, resp, *, n: int, name: str = Query("", max_length=50)):
        return {"n": n}

    response = app.client.get("/", params={"n": "9" * 5000})
    assert response.status_code == 400
    assert "n" in response.json()["errors"]
    response = app.client.get("/", params={"n": "1", "name": "x" * 10_000})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_headers_and_cookies(app):
    @app.route("/")
    async def view(req, resp, *, token: str = Header(alias="X-Token"), x_trace_id: str | None = Header(None),
                   session: str = Cookie("none")):
        return {"token": token, "trace": x_trace_id, "session": session}

    client = app.client
    missing = client.get("/")
    assert missing.status_code == 400
    assert missing.json() == {"errors": {"X-Token": ["Field required"]}}
    got = client.get("/", headers={"x-token": "t", "X-Trace-Id": "abc", "Cookie": "session=s1"})
    assert got.json() == {"token": "t", "trace": "abc", "session": "s1"}


def test_annotated_markers_and_constraints(app):
    @app.route("/items/{item_id}")
    async def view(req, resp, *, item_id: Annotated[int, Path(ge=1)],
                   page: Annotated[int, Query(alias="p", ge=1, le=100)] = 1):
        return {"item_id": item_id, "page": page}

    assert app.client.get("/items/3?p=7").json() == {"item_id": 3, "page": 7}
    assert app.client.get("/items/0").status_code == 400
    bad = app.client.get("/items/2?p=1000")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["p"]


def test_path_parameters_as_today_and_typed_ones_coerced(app):
    @app.route("/hello/{who}")
    async def hello(req, resp, *, who):
        resp.text = f"hello, {who}!"

    @app.route("/users/{user_id}")
    async def user(req, resp, *, user_id: int):
        return {"id": user_id, "type": type(user_id).__name__}

    @app.route("/typed/{n:int}")
    async def typed(req, resp, *, n: int):
        return {"n": n}

    assert app.client.get("/hello/you").text == "hello, you!"
    assert app.client.get("/users/42").json() == {"id": 42, "type": "int"}
    assert app.client.get("/users/abc").status_code == 400
    assert app.client.get("/typed/5").json() == {"n": 5}


def test_a_path_parameter_typed_as_its_convertor_gives_arrives_as_the_route_gave_it(app):
    """``n: int`` on ``{n:int}`` (and float, UUID): the convertor's value is
    passed on, with no validation step compiled for it; a marker's
    constraints, another type or a convertor subclass are still validated."""
    import uuid

    from dyne.routing import IntegerConvertor

    @app.route("/int/{n:int}")
    async def as_int(req, resp, *, n: int):
        return {"n": n, "type": type(n).__name__}

    @app.route("/float/{x:float}")
    async def as_float(req, resp, *, x: float):
        return {"x": x, "type": type(x).__name__}

    @app.route("/uuid/{u:uuid}")
    async def as_uuid(req, resp, *, u: uuid.UUID):
        return {"u": str(u), "type": type(u).__name__}

    @app.route("/positive/{n:int}")
    async def positive(req, resp, *, n: int = Path(ge=1)):
        return {"n": n}

    @app.route("/as-float/{n:int}")
    async def widened(req, resp, *, n: float):
        return {"n": n, "type": type(n).__name__}

    class Padded(IntegerConvertor):
        def convert(self, value: str) -> str:  # type: ignore[override]
            return value  # "007" stays text: the annotation makes it an int

    app.register_convertor("padded", Padded())

    @app.route("/padded/{n:padded}")
    async def padded(req, resp, *, n: int):
        return {"n": n, "type": type(n).__name__}

    for path in ("/int/{n:int}", "/float/{x:float}", "/uuid/{u:uuid}"):
        route = next(r for r in app.router.routes if getattr(r, "path", None) == path)
        assert not route.spec.steps, path
    assert app.client.get("/int/42").json() == {"n": 42, "type": "int"}
    assert app.client.get("/float/2.5").json() == {"x": 2.5, "type": "float"}
    value = "12345678-1234-5678-1234-567812345678"
    assert app.client.get(f"/uuid/{value}").json() == {"u": value, "type": "UUID"}
    assert app.client.get("/positive/0").status_code == 400
    assert app.client.get("/positive/3").json() == {"n": 3}
    assert app.client.get("/as-float/4").json() == {"n": 4.0, "type": "float"}
    assert app.client.get("/padded/007").json() == {"n": 7, "type": "int"}


def test_several_locations_report_their_errors_together(app):
    """A view without ``Depends`` (its compiled step): errors of the path, the
    query and the body are gathered in one 400; valid values reach every
    parameter reading them, ``req``/``resp`` annotated ones included."""

    @app.route("/orders/{order_id}", methods=["POST"])
    async def order(req, resp, *, order_id: int, page: int = 1, item: Item, request: dyne.Request,
                    response: dyne.Response):
        assert request is req and response is resp
        return {"order": order_id, "page": page, "item": item.name}

    bad = app.client.post("/orders/x?page=y", json={"name": "a", "price": -1})
    assert bad.status_code == 400
    assert {"order_id", "page", "price"} <= set(bad.json()["errors"])
    good = app.client.post("/orders/3?page=2", json={"name": "a", "price": 1})
    assert good.json() == {"order": 3, "page": 2, "item": "a"}


# -- bodies ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("annotation", "body", "expected"), [
    (Item, {"name": "a", "price": 2}, {"name": "a", "price": 2.0}),
    (Point, {"x": "1", "y": 2}, {"x": 1, "y": 2}),
    (Pair, {"left": "l", "right": "3"}, {"left": "l", "right": 3}),
])
def test_a_model_parameter_is_the_body(app, annotation, body, expected):
    async def view(req, resp, *, payload: annotation):
        assert isinstance(payload, dict if annotation is Pair else annotation)
        return payload

    app.add_route("/", view, methods=["POST"])
    assert app.client.post("/", json=body).json() == expected


def test_invalid_bodies_are_400_like_input(app):
    @app.route("/decorated", methods=["POST"])
    @input(Item)
    async def decorated(req, resp, *, data):
        return dict(data)

    @app.route("/signature", methods=["POST"])
    async def signature(req, resp, *, item: Item):
        return item

    for body in ({"name": "a", "price": -1}, {"price": "x"}, [1, 2], "text"):
        old = app.client.post("/decorated", json=body)
        new = app.client.post("/signature", json=body)
        assert new.status_code == old.status_code == 400, body
        assert new.json() == old.json()
    assert app.client.post("/signature", content=b"{not json", headers={
        "Content-Type": "application/json"}).status_code == 400


def test_several_body_markers_are_members_of_one_object(app):
    @app.route("/", methods=["POST"])
    async def view(req, resp, *, item: Item = Body(), count: int = Body(1)):
        return {"item": item.name, "count": count}

    assert app.client.post("/", json={"item": {"name": "a", "price": 1}, "count": 3}).json() == {
        "item": "a", "count": 3}
    bad = app.client.post("/", json={"item": {"name": "a", "price": 0}})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["item.price"]


def test_form_fields_and_uploaded_files(app):
    @app.route("/upload", methods=["POST"])
    async def upload(req, resp, *, title: str = Form(), photo: UploadFile = File()):
        return {"title": title, "filename": photo.filename, "content": photo.read().decode()}

    response = app.client.post("/upload", data={"title": "t"},
                               files={"photo": ("a.txt", b"hello", "text/plain")})
    assert response.json() == {"title": "t", "filename": "a.txt", "content": "hello"}
    missing = app.client.post("/upload", data={"title": "t"})
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["photo"]


# -- return annotations ----------------------------------------------------------------------

def test_a_model_return_annotation_serializes_like_output(app):
    class Secret(BaseModel):
        name: str
        password: str

    @app.route("/one")
    async def one(req, resp) -> PublicUser:
        return Secret(name="ann", password="hunter2")  # type: ignore[return-value]

    @app.route("/many")
    async def many(req, resp) -> list[PublicUser]:
        return [{"name": "a", "extra": 1}, {"name": "b"}]  # type: ignore[list-item]

    @app.route("/created", methods=["POST"])
    async def created(req, resp, *, item: Item) -> Item:
        return item, 201  # type: ignore[return-value]

    assert app.client.get("/one").json() == {"name": "ann"}
    assert app.client.get("/many").json() == [{"name": "a"}, {"name": "b"}]
    response = app.client.post("/created", json={"name": "n", "price": 1})
    assert response.status_code == 201 and response.json() == {"name": "n", "price": 1.0}


def test_an_error_the_view_answers_itself_is_not_serialized_through_the_annotation(app):
    @app.route("/items/{name}")
    async def show(req, resp, *, name) -> Item:
        if name != "lamp":
            resp.status_code = 404
            resp.media = {"error": f"no item {name}"}
            return None
        return Item(name="lamp", price=3)

    assert app.client.get("/items/lamp").json() == {"name": "lamp", "price": 3.0}
    missing = app.client.get("/items/desk")
    assert (missing.status_code, missing.json()) == (404, {"error": "no item desk"})


def test_output_wins_over_the_return_annotation(app):
    @app.route("/")
    @output(PublicUser)
    async def view(req, resp) -> Item:
        resp.obj = {"name": "x", "price": 3}

    assert app.client.get("/").json() == {"name": "x"}


# -- Depends ------------------------------------------------------------------------------------

def test_dependencies_nested_cached_sync_and_async(app):
    calls: list[str] = []

    def settings() -> dict:
        calls.append("settings")
        return {"prefix": "db:"}

    async def database(config: dict = Depends(settings)) -> str:
        calls.append("database")
        return config["prefix"] + "main"

    async def current_user(req, db: str = Depends(database), name: str = Header("anonymous", alias="X-User")):
        calls.append("user")
        return {"name": name, "db": db, "path": req.url.path}

    @app.route("/me")
    async def me(req, resp, *, user=Depends(current_user), db=Depends(database),
                 config: Annotated[dict, Depends(settings)]):
        return {"user": user, "db": db, "prefix": config["prefix"]}

    response = app.client.get("/me", headers={"X-User": "ann"})
    assert response.json() == {"user": {"name": "ann", "db": "db:main", "path": "/me"},
                               "db": "db:main", "prefix": "db:"}
    assert sorted(calls) == ["database", "settings", "user"]  # once each per request
    app.client.get("/me")
    assert len(calls) == 6


def test_use_cache_false_calls_again(app):
    counter = iter(range(100))

    def ticket() -> int:
        return next(counter)

    @app.route("/")
    async def view(req, resp, *, a=Depends(ticket), b=Depends(ticket, use_cache=False)):
        return {"a": a, "b": b}

    assert app.client.get("/").json() == {"a": 0, "b": 1}


def test_generator_providers_clean_up_after_the_response_also_on_errors(app):
    log: list[str] = []

    async def session():
        log.append("open")
        try:
            yield "session"
        finally:
            log.append("close")

    def transaction(s: str = Depends(session)):
        log.append("begin")
        yield s + "+tx"
        log.append("end")

    @app.route("/ok")
    async def ok(req, resp, *, tx=Depends(transaction)):
        log.append("view")
        return {"tx": tx}

    @app.route("/boom")
    async def boom(req, resp, *, tx=Depends(transaction)):
        raise RuntimeError("boom")

    assert app.client.get("/ok").json() == {"tx": "session+tx"}
    assert log == ["open", "begin", "view", "end", "close"]
    log.clear()
    assert app.client.get("/boom").status_code == 500
    assert log == ["open", "begin", "end", "close"]


def test_dependency_overrides_replace_providers_in_tests(app):
    def real_user() -> str:
        return "real"

    async def wrapper(user: str = Depends(real_user)) -> str:
        return f"<{user}>"

    @app.route("/")
    async def view(req, resp, *, user=Depends(wrapper), raw=Depends(real_user)):
        return {"user": user, "raw": raw}

    assert app.client.get("/").json() == {"user": "<real>", "raw": "real"}

    def fake_user(name: str = Query("fake")) -> str:
        return name

    app.dependency_overrides[real_user] = fake_user
    assert app.client.get("/").json() == {"user": "<fake>", "raw": "fake"}
    assert app.client.get("/?name=zed").json() == {"user": "<zed>", "raw": "zed"}
    app.dependency_overrides.clear()
    assert app.client.get("/").json() == {"user": "<real>", "raw": "real"}
    assert dyne.App().dependency_overrides == {}


def test_provider_errors_and_http_exceptions_reach_the_client(app):
    def guard(token: str = Header(alias="Authorization")) -> str:
        if token != "Bearer ok":
            raise dyne.HTTPException(401)
        return token

    @app.route("/")
    async def view(req, resp, *, token=Depends(guard)):
        return {"ok": True}

    assert app.client.get("/").status_code == 400  # missing header: validation
    assert app.client.get("/", headers={"Authorization": "nope"}).status_code == 401
    assert app.client.get("/", headers={"Authorization": "Bearer ok"}).json() == {"ok": True}


# -- registration ------------------------------------------------------------------------

def test_a_keyword_argument_nothing_fills_is_an_error_at_registration(app):
    async def view(req, resp, *, mystery):
        pass

    with pytest.raises(TypeError, match=r"view.*'mystery'"):
        app.add_route("/", view)


def test_other_registration_errors_name_the_view_and_parameter(app):
    async def no_path(req, resp, *, item_id: int = Path()):
        pass

    with pytest.raises(TypeError, match=r"no_path.*'item_id'.*\{item_id\}"):
        app.add_route("/", no_path)

    async def two_bodies(req, resp, *, a: Item, b: Point):
        pass

    with pytest.raises(TypeError, match=r"two_bodies.*'b'.*second body"):
        app.add_route("/two", two_bodies, methods=["POST"])

    def cyclic(value=None):
        return value

    cyclic.__defaults__ = (Depends(cyclic),)

    async def uses_cycle(req, resp, *, v=Depends(cyclic)):
        pass

    with pytest.raises(TypeError, match="cycle"):
        app.add_route("/cycle", uses_cycle)

    with pytest.raises(TypeError, match="unknown option"):
        Query(1, maximum=3)


def test_plain_views_keep_the_direct_call(app):
    @app.route("/plain")
    async def plain(req, resp):
        resp.media = {"ok": True}

    @app.route("/who/{who}")
    async def who(req, resp, *, who, greeting="hi"):
        resp.media = {"who": who, "greeting": greeting}

    for path in ("/plain", "/who/{who}"):
        route = next(r for r in app.router.routes if getattr(r, "path", None) == path)
        assert not route.spec.steps and not route.spec.after
        assert compile_route(route).__name__ == "direct_async"
    assert app.client.get("/who/x?greeting=yo").json() == {"who": "x", "greeting": "hi"}
    assert compile_signature(plain) is None


def test_input_keywords_and_class_views_are_left_alone(app):
    @app.route("/in", methods=["POST"])
    @input(Item)
    async def with_input(req, resp, *, data, verbose: bool = False):
        return {"name": data["name"], "verbose": verbose}

    @app.route("/class")
    class View:
        def on_get(self, req, resp):
            resp.media = {"class": True}

    assert app.client.post("/in?verbose=1", json={"name": "a", "price": 1}).json() == {
        "name": "a", "verbose": True}
    assert app.client.get("/class").json() == {"class": True}


def test_is_model_is_extensible():
    class Custom:
        pass

    assert is_model(Item) and is_model(Point) and is_model(Pair)
    assert not is_model(int) and not is_model(list[Item]) and not is_model(Custom)
    register_model_detector(lambda annotation: getattr(annotation, "__custom_model__", False))
    Custom.__custom_model__ = True  # type: ignore[attr-defined]
    assert is_model(Custom)


def test_compile_signature_is_reusable_for_methods():
    class Controller:
        async def show(self, req, user_id: int, limit: int = 5):
            return user_id

    plan = compile_signature(Controller().show, ["user_id"], skip=1)
    assert plan is not None
    assert [name for name, *_ in plan.arguments] == ["user_id", "limit"]


# -- OpenAPI ----------------------------------------------------------------------------------

def _document(app):
    from dyne.ext.openapi import OpenAPI

    from .ext.openapi.conftest import served

    app.extensions["api"] = OpenAPI(app, title="T", version="1")
    return served(app)


def test_openapi_documents_markers_like_input():
    class Search(BaseModel):
        q: str = Field(description="Words")
        limit: int = 10

    class Headers(BaseModel):
        x_token: str

    decorated = dyne.App()

    @decorated.route("/search")
    @input(Search, location="query")
    @input(Headers, location="headers")
    @output(Item)
    async def search(req, resp, *, query, headers):
        pass

    @decorated.route("/items", methods=["POST"])
    @input(Item)
    async def create(req, resp, *, data):
        pass

    signature = dyne.App()

    @signature.route("/search")
    async def search_signature(req, resp, *, q: str = Query(description="Words"), limit: int = 10,
                               x_token: str = Header()) -> Item:
        pass

    @signature.route("/items", methods=["POST"])
    async def create_signature(req, resp, *, item: Item):
        pass

    old, new = _document(decorated), _document(signature)
    old_search, new_search = old["paths"]["/search"]["get"], new["paths"]["/search"]["get"]
    assert new_search["parameters"] == old_search["parameters"]
    assert new_search["responses"]["200"] == old_search["responses"]["200"]
    assert new["paths"]["/items"]["post"]["requestBody"] == old["paths"]["/items"]["post"]["requestBody"]
    assert new["components"]["schemas"]["Item"] == old["components"]["schemas"]["Item"]


def test_openapi_lists_the_parameters_providers_read():
    app = dyne.App()

    def pagination(page: int = Query(1, ge=1), size: int = 20):
        return page, size

    def auth(key: str = Header(alias="X-API-Key")):
        return key

    def page_and_auth(p=Depends(pagination), key=Depends(auth)):
        return p, key

    @app.route("/things")
    async def things(req, resp, *, p=Depends(pagination), both=Depends(page_and_auth)):
        pass

    parameters = _document(app)["paths"]["/things"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("page", "query", False), ("size", "query", False), ("X-API-Key", "header", True)]


# -- a real server ------------------------------------------------------------------------------

def test_over_http_with_a_real_server_and_client():
    app = dyne.App()
    log: list[str] = []

    async def resource():
        log.append("open")
        yield "r"
        await asyncio.sleep(0)
        log.append("closed")

    @app.route("/items/{item_id}", methods=["PUT"])
    async def put(req, resp, *, item_id: int, item: Item, token: str = Header(alias="X-Token"),
                  res=Depends(resource)) -> Item:
        return Item(name=f"{item.name}#{item_id}:{token}:{res}", price=item.price)

    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        ok = client.put("/items/7", json={"name": "a", "price": 2}, headers={"X-Token": "t"})
        assert ok.status_code == 200
        assert ok.json() == {"name": "a#7:t:r", "price": 2.0}
        bad = client.put("/items/x", json={"name": "a"}, headers={"X-Token": "t"})
        assert bad.status_code == 400
        assert bad.json() == {"errors": {"item_id": [
            "Input should be a valid integer, unable to parse string as an integer"],
            "price": ["Field required"]}}
    assert log == ["open", "closed"]


def test_an_override_no_longer_reads_what_the_replaced_provider_read(app):
    def real_auth(token: str = Header(alias="Authorization")) -> str:
        return token

    @app.route("/")
    async def view(req, resp, *, who=Depends(real_auth)):
        return {"who": who}

    assert app.client.get("/").status_code == 400  # the header is required
    app.dependency_overrides[real_auth] = lambda: "tester"
    assert app.client.get("/").json() == {"who": "tester"}
    app.dependency_overrides[real_auth] = lambda: "other"  # another replacement: compiled again
    assert app.client.get("/").json() == {"who": "other"}


def test_an_annotation_no_query_parameter_can_have_is_an_error_at_registration(app):
    class Session:
        pass

    async def view(req, resp, *, db: Session):
        pass

    with pytest.raises(TypeError, match=r"view.*'db'.*not a type a query parameter can have"):
        app.add_route("/", view)


def test_body_members_are_one_documented_object():
    app = dyne.App()

    @app.route("/orders", methods=["POST"])
    async def create_order(req, resp, *, item: Item = Body(), quantity: int = Body(1, ge=1)):
        return {"name": item.name, "quantity": quantity}

    document = _document(app)
    body = document["paths"]["/orders"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/CreateOrderBody"}
    members = document["components"]["schemas"]["CreateOrderBody"]["properties"]
    assert set(members) == {"item", "quantity"}


def test_msgspec_and_attrs_bodies_and_returns_work_like_pydantic_ones():
    """A msgspec Struct or an attrs class in the signature is the body, validated
    by msgspec with @input's 400 shape, and a return annotation of one
    serializes and documents the answer."""
    import attrs
    import msgspec
    from openapi_spec_validator import validate

    from dyne.ext.openapi import OpenAPI

    app = dyne.App()
    api = OpenAPI(app)

    class Part(msgspec.Struct):
        name: str
        qty: int

    @attrs.define
    class Label:
        text: str

    @app.post("/parts")
    async def create_part(req, resp, *, part: Part) -> Part:
        resp.media = Part(name=part.name.upper(), qty=part.qty)

    @app.post("/labels")
    async def create_label(req, resp, *, label: Label) -> Label:
        resp.media = label

    client = app.client
    assert client.post("/parts", json={"name": "bolt", "qty": 3}).json() == {"name": "BOLT", "qty": 3}
    bad = client.post("/parts", json={"name": "bolt", "qty": "three"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["qty"]
    assert client.post("/parts", content=b"{", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert client.post("/labels", json={"text": "hi"}).json() == {"text": "hi"}
    assert client.post("/labels", json={}).status_code == 400
    document = client.get("/schema.json").json()
    validate(document)
    operation = document["paths"]["/parts"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Part"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Part"}
    assert set(document["components"]["schemas"]) >= {"Part", "Label"}
    assert api is app.extensions["openapi"]


# -- Class-based views ---------------------------------------------------------------------

def test_class_based_views_read_their_signature_too(app):
    from dyne.ext.openapi import OpenAPI

    api = OpenAPI(app, title="T", version="1")
    seen: list[str] = []

    def token(x_token: str = Header()) -> str:
        seen.append(x_token)
        return x_token

    @app.route("/things/{thing_id:int}")
    class Things:
        async def on_get(self, req, resp, *, thing_id, limit: int = 10, tok: str = Depends(token)):
            resp.media = {"id": thing_id, "limit": limit, "tok": tok}

        async def on_post(self, req, resp, *, thing_id, item: Item):
            resp.media = {"id": thing_id, "name": item.name}

        def on_delete(self, req, resp, *, thing_id):  # declares nothing: as always
            resp.media = {"deleted": thing_id}

    got = app.client.get("/things/3?limit=4", headers={"X-Token": "t"})
    assert got.json() == {"id": 3, "limit": 4, "tok": "t"} and seen == ["t"]
    assert app.client.get("/things/3?limit=x", headers={"X-Token": "t"}).status_code == 400
    assert "x_token" in str(app.client.get("/things/3").json()["errors"]).lower().replace("-", "_")
    assert app.client.post("/things/3", json={"name": "n", "price": 2}).json() == {"id": 3, "name": "n"}
    invalid = app.client.post("/things/3", json={"name": "n", "price": -1})
    assert invalid.status_code == 400 and "price" in str(invalid.json()["errors"])
    assert app.client.delete("/things/3").json() == {"deleted": 3}
    operations = api.to_dict()["paths"]["/things/{thing_id}"]
    assert "limit" in {p["name"] for p in operations["get"]["parameters"]}
    assert "requestBody" in operations["post"] and "requestBody" not in operations["get"]


def test_a_class_view_parameter_nothing_fills_is_refused_at_registration(app):
    with pytest.raises(TypeError, match="mystery"):
        @app.route("/bad")
        class Bad:
            async def on_get(self, req, resp, *, mystery):
                resp.text = "never"
