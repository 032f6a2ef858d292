"""@db.transaction: commit, rollback, joining, finding req, body decoding,
decorator composition, and 200 concurrent writers."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

import dyne
from dyne.endpoints import PHASE_INPUT, get_endpoint_spec
from dyne.ext.db.alchemical import Alchemical, CRUDMixin, Model
from tests.conftest import serve_in_thread


def define_book():
    class Book(CRUDMixin, Model):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(100), unique=True)
        price: Mapped[float | None]

    return Book


def titles(db, Book) -> list[str]:
    from dyne.testing import _shared_portal

    async def read():
        async with db.session() as session:
            return sorted((await session.scalars(select(Book.title))).all())

    return _shared_portal().call(read)


def test_commits_on_success_and_rolls_back_on_error(make_app):
    app, db = make_app()
    Book = define_book()

    @app.route("/books", methods=["POST"])
    @db.transaction
    async def create(req, resp):
        data = req.media()
        book = await Book.create(**data)
        if book.title.startswith("abort"):
            dyne.abort(418)
        if book.title.startswith("crash"):
            raise RuntimeError("after the write")
        resp.media = {"id": book.id, "title": book.title, "price": book.price}

    client = app.client
    created = client.post("/books", json={"title": "Dune", "price": 9.5})
    assert created.json() == {"id": created.json()["id"], "title": "Dune", "price": 9.5}
    assert client.post("/books", json={"title": "abort me"}).status_code == 418
    assert client.post("/books", json={"title": "crash me"}).status_code == 500
    assert client.post("/books", json={"title": "Dune"}).status_code == 409  # commit failed
    assert titles(db, Book) == ["Dune"]
    assert db.get_engine().pool.checkedout() == 0


def test_nested_transactions_join_the_outer_one(make_app):
    app, db = make_app()
    Book = define_book()
    seen = {}

    @db.transaction
    async def add_book(title, *, req):
        book = await Book.create(title=title)
        seen["inner in transaction after return"] = None
        return book

    @app.route("/two/{fail}", methods=["POST"])
    @db.transaction
    async def two_books(req, resp, fail):
        await add_book("first", req=req)
        session = await req.db
        seen["in transaction after inner"] = session.in_transaction()
        await add_book("second", req=req)
        if fail == "yes":
            raise ValueError("the outer transaction fails after both inner calls")
        resp.media = {"ok": True}

    client = app.client
    assert client.post("/two/yes").status_code == 500
    assert titles(db, Book) == []  # the inner calls did not commit on their own
    assert seen["in transaction after inner"] is True
    assert client.post("/two/no").json() == {"ok": True}
    assert titles(db, Book) == ["first", "second"]


def test_an_inner_failure_does_not_roll_back_early(make_app):
    app, db = make_app()
    Book = define_book()

    @db.transaction
    async def risky(req):
        await Book.create(title="risky")
        raise LookupError("inner failure")

    @app.route("/", methods=["POST"])
    @db.transaction
    async def outer(req, resp):
        await Book.create(title="kept")
        try:
            await risky(req)
        except LookupError:
            pass  # the outer function decides: it carries on and commits
        resp.media = {"titles": [b.title for b in await Book.all()]}

    assert app.client.post("/").json() == {"titles": ["kept", "risky"]}
    assert titles(db, Book) == ["kept", "risky"]


def test_a_failed_helper_is_rolled_back_before_the_next_one_commits(make_app):
    """Two top-level transactions on the request's one session: the failed
    one's write must be gone before the next one commits."""
    app, db = make_app()
    Book = define_book()

    @db.transaction
    async def add(req, title, fail=False):
        await Book.create(title=title)
        if fail:
            raise LookupError("after the write")

    @app.route("/", methods=["POST"])
    async def view(req, resp):
        try:
            await add(req, "failed", fail=True)
        except LookupError:
            pass
        await add(req, "succeeded")
        resp.media = {"titles": [b.title for b in await Book.all()]}

    assert app.client.post("/").json() == {"titles": ["succeeded"]}
    assert titles(db, Book) == ["succeeded"]


def test_a_failed_transaction_in_an_active_session_is_rolled_back(database_url):
    db = Alchemical(url=database_url)
    Book = define_book()

    @db.transaction
    async def add(title, fail=False):
        await Book.create(title=title)
        if fail:
            raise LookupError("after the write")

    async def main():
        await db.create_all()
        async with db.session() as session:
            with pytest.raises(LookupError, match="after the write"):
                await add("failed", fail=True)
            pending = [obj.title for obj in session.new]
            await add("succeeded")
        async with db.session() as session:
            stored = sorted((await session.scalars(select(Book.title))).all())
        await db.dispose()
        return pending, stored

    pending, stored = asyncio.run(main())
    assert pending == []
    assert stored == ["succeeded"]


def test_req_is_found_in_args_kwargs_and_methods(make_app):
    app, db = make_app()
    Book = define_book()

    @db.transaction
    async def by_keyword(*, title, request):
        return await Book.create(title=title)

    @app.route("/kw", methods=["POST"])
    async def kw(req, resp):
        book = await by_keyword(title="keyword", request=req)
        resp.media = {"id": book.id}

    @app.route("/cbv")
    class Books:
        @db.transaction
        async def on_post(self, req, resp):
            book = await Book.create(title=req.media()["title"])
            resp.media = {"id": book.id}

    assert app.client.post("/kw").status_code == 200
    assert app.client.post("/cbv", json={"title": "class-based"}).status_code == 200
    assert titles(db, Book) == ["class-based", "keyword"]


def test_without_a_request_it_opens_and_closes_its_own_session(database_url):
    db = Alchemical(url=database_url)
    Book = define_book()

    @db.transaction
    async def import_books(*names):
        for name in names:
            await Book.create(title=name)

    @db.transaction
    async def fails():
        await Book.create(title="lost")
        raise ValueError("nope")

    async def main():
        await db.create_all()
        await import_books("a", "b")
        with pytest.raises(ValueError, match="nope"):
            await fails()
        async with db.session() as session:
            found = sorted((await session.scalars(select(Book.title))).all())
            # Inside an active session, the decorator uses that session.
            await import_books("c")
            in_block = session.in_transaction()
        checked_out = db.get_engine().pool.checkedout()
        await db.dispose()
        return found, in_block, checked_out

    found, in_block, checked_out = asyncio.run(main())
    assert found == ["a", "b"]
    assert in_block is False  # import_books("c") committed the block's session
    assert checked_out == 0


def test_inside_an_explicit_begin_it_joins_and_does_not_commit(database_url):
    db = Alchemical(url=database_url)
    Book = define_book()

    @db.transaction
    async def add(title):
        await Book.create(title=title)

    async def main():
        await db.create_all()
        async with db.session() as session, session.begin():
            await add("joined")
            still_open = session.in_transaction()
            await session.rollback()
        async with db.session() as session:
            return still_open, (await session.scalars(select(Book.title))).all()

    still_open, stored = asyncio.run(main())
    assert still_open is True
    assert stored == []


def test_sync_functions_are_refused_at_decoration():
    db = Alchemical(url="sqlite://")
    with pytest.raises(TypeError, match=r"@db.transaction needs an async function.*sync_view"):
        @db.transaction
        def sync_view(req, resp):
            pass

    with pytest.raises(TypeError, match=r"@db\.read_only needs an async function"):
        db.read_only(lambda req, resp: None)


def test_parentheses_are_optional():
    db = Alchemical(url="sqlite://")

    @db.transaction()
    async def view(req, resp):
        pass

    assert view.__wrapped__.__name__ == "view"


@pytest.mark.parametrize("order", ["step above", "step below"])
def test_endpoint_metadata_survives_either_decorator_order(make_app, order):
    app, db = make_app()
    Book = define_book()

    def with_title(view):
        async def step(req, resp, kwargs):
            kwargs["title"] = req.params.get("title", "untitled")

        spec = get_endpoint_spec(view)
        spec.add_step(step, PHASE_INPUT)
        spec.meta["example"] = "kept"
        return view

    async def create(req, resp, *, title):
        book = await Book.create(title=title)
        resp.media = {"title": book.title}

    view = with_title(db.transaction(create)) if order == "step above" else \
        db.transaction(with_title(create))
    app.add_route("/books", view, methods=["POST"])
    assert get_endpoint_spec(view).meta == {"example": "kept"}
    assert app.client.post("/books?title=Emma").json() == {"title": "Emma"}
    assert titles(db, Book) == ["Emma"]


# -- the request body -----------------------------------------------------------------------


def test_the_body_is_decoded_for_req_media_without_await(make_app):
    app, db = make_app()
    seen = []

    @app.route("/echo", methods=["GET", "POST", "DELETE"])
    @db.transaction
    async def echo(req, resp):
        data = req.media()
        seen.append(type(data).__name__)
        resp.media = dict(data)

    client = app.client
    assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
    assert client.post("/echo", content=b"a: 2\n", headers={"content-type": "application/x-yaml"}
                       ).json() == {"a": 2}
    assert client.post("/echo", data={"a": "3"}).json() == {"a": "3"}
    assert client.get("/echo").json() == {}  # no body: an empty dict, no 400
    assert client.delete("/echo").json() == {}
    assert seen == ["ParsedMedia"] * 5


def test_malformed_bodies_are_400_before_any_session(make_app):
    app, db = make_app()
    opened = []

    @app.route("/echo", methods=["POST"])
    @db.transaction
    async def echo(req, resp):
        opened.append(True)

    response = app.client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert opened == []


def test_uploads_and_unknown_content_types_are_left_to_the_view(make_app):
    app, db = make_app()

    @app.route("/upload", methods=["POST"])
    @db.transaction
    async def upload(req, resp):
        form = await req.form()
        resp.media = {"size": len(await form["file"].read())}

    @app.route("/raw", methods=["POST"])
    @db.transaction
    async def raw(req, resp):
        resp.media = {"text": await req.text}

    client = app.client
    assert client.post("/upload", files={"file": ("a.bin", b"x" * 1000)}).json() == {"size": 1000}
    assert client.post("/raw", content=b"plain words", headers={"content-type": "text/plain"}
                       ).json() == {"text": "plain words"}


def test_a_helper_called_after_the_body_was_streamed_does_not_fail(make_app):
    app, db = make_app()

    @db.transaction
    async def helper(req):
        return "done"

    @app.route("/stream", methods=["POST"])
    async def stream(req, resp):
        size = 0
        async for chunk in req.stream():
            size += len(chunk)
        resp.media = {"size": size, "helper": await helper(req)}

    response = app.client.post("/stream", json={"k": "v" * 100})
    assert response.json() == {"size": len(json.dumps({"k": "v" * 100}).replace(" ", "")),
                               "helper": "done"}


# -- concurrency ------------------------------------------------------------------------------


def test_200_concurrent_transactions_lose_nothing_and_leak_nothing(database_url):
    """Through a real server: each request writes in its own transaction; one
    in ten fails after writing and must leave nothing behind."""
    # SQLite lets one writer at a time hold the file: there it checks correctness, not scale.
    requests = 50 if database_url.startswith("sqlite") else 200
    app = dyne.App()
    app.config["ALCHEMICAL_DATABASE_URL"] = database_url
    app.config["ALCHEMICAL_ENGINE_OPTIONS"] = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 60}
    db = Alchemical(app)
    Book = define_book()
    app.on_event("startup")(db.create_all)

    @app.route("/books/{n:int}", methods=["POST"])
    @db.transaction
    async def create(req, resp, *, n):
        await Book.create(title=f"book {n}", price=n)
        await asyncio.sleep(0.01)  # hold the transaction open while others run
        if n % 10 == 0:
            raise ValueError("this request fails after writing")
        resp.media = {"n": n}

    @app.route("/state")
    async def state(req, resp):
        session = await req.db
        resp.media = {"rows": await session.scalar(select(func.count()).select_from(Book)),
                      "titles": sorted((await session.scalars(select(Book.title))).all())}

    async def hammer(base):
        limits = httpx.Limits(max_connections=requests)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
            responses = await asyncio.gather(*(client.post(f"/books/{n}") for n in range(1, requests + 1)))
            return [r.status_code for r in responses], (await client.get("/state")).json()

    # A long keep-alive: on a busy machine the burst outlasts uvicorn's default 5 s, and a
    # connection it closes while the client reuses it for /state ends as "Server disconnected".
    with serve_in_thread(app, timeout_keep_alive=300) as base:
        statuses, state = asyncio.run(hammer(base))
        checked_out = db.get_engine().pool.checkedout()
    failing = {n for n in range(1, requests + 1) if n % 10 == 0}
    assert statuses.count(200) == requests - len(failing)
    assert statuses.count(500) == len(failing)
    assert state["rows"] == requests - len(failing)
    assert state["titles"] == sorted(f"book {n}" for n in range(1, requests + 1) if n not in failing)
    assert checked_out == 0


# -- what mutation testing found unpinned (scripts/mutation.py transactions) -----------------

def test_three_nested_levels_commit_only_at_the_outermost(make_app):
    app, db = make_app()
    Book = define_book()

    @db.transaction
    async def innermost(req):
        await Book.create(title="innermost")

    @db.transaction
    async def middle(req):
        await Book.create(title="middle")
        await innermost(req)

    @app.route("/", methods=["POST"])
    @db.transaction
    async def outer(req, resp):
        await Book.create(title="outer")
        await middle(req)
        raise ValueError("the outer transaction fails after every inner call returned")

    assert app.client.post("/").status_code == 500
    assert titles(db, Book) == []  # no inner level committed on its own


def test_early_decoding_leaves_refused_and_oversized_bodies_to_the_view(make_app):
    from dyne.bodies import media_limits

    app, db = make_app()
    app.media_limits = media_limits({"json": {"max_size": 10}})

    @app.route("/only-json", methods=["POST"], media_formats=["json"])
    @db.transaction
    async def only_json(req, resp):
        resp.media = {"ok": True}  # does not read the body

    @app.route("/any", methods=["POST"])
    @db.transaction
    async def any_body(req, resp):
        resp.media = {"ok": True}  # does not read the body

    @app.route("/only-yaml", methods=["POST"], media_formats=["yaml"])
    @db.transaction
    async def only_yaml(req, resp):
        resp.media = dict(req.media())  # decoded before the view, in the route's format

    app.media_formats = frozenset({"json"})  # the app alone would refuse YAML
    client = app.client
    assert client.post("/only-yaml", content=b"a: 1", headers={"content-type": "application/yaml"}
                       ).json() == {"a": 1}
    # YAML is not this route's format: not decoded before the view (malformed or not).
    assert client.post("/only-json", content=b"a: [", headers={"content-type": "application/yaml"}
                       ).json() == {"ok": True}
    # Over the JSON size limit: not decoded early, so no 413 for a view that ignores it.
    assert client.post("/any", content=b'{"a": "0123456789"}', headers={"content-type": "application/json"}
                       ).json() == {"ok": True}
