"""Creating a GraphQLView: what is checked at registration, and how the app
keeps track of its GraphQL backend."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import dyne
from dyne.ext.graphql import GraphQLView
from dyne.ext.graphql.view import GraphQLExtension

from .conftest import SCHEMAS, serve


def raw_strawberry_schema():
    import strawberry

    @strawberry.type
    class Query:
        hello: str = "hi"

    return strawberry.Schema(query=Query)


def raw_graphene_schema():
    import graphene

    class Query(graphene.ObjectType):
        hello = graphene.String()

    return graphene.Schema(query=Query)


def test_raw_strawberry_schema_is_refused_naming_the_wrapper():
    app = dyne.App()
    with pytest.raises(TypeError,
                       match=r"raw strawberry\.Schema.*dyne\.ext\.graphql\.strawberry import Schema"):
        GraphQLView(app=app, schema=raw_strawberry_schema())
    assert "graphql" not in app.extensions
    assert app.routes == []


def test_raw_graphene_schema_is_refused_naming_the_wrapper():
    app = dyne.App()
    with pytest.raises(TypeError,
                       match=r"raw graphene\.Schema.*dyne\.ext\.graphql\.graphene import Schema"):
        GraphQLView(app=app, schema=raw_graphene_schema())


@pytest.mark.parametrize("schema", [None, "type Query { hello: String }", object()])
def test_something_else_is_refused(schema):
    with pytest.raises(TypeError, match="needs a dyne GraphQL schema"):
        GraphQLView(app=dyne.App(), schema=schema)


def test_app_must_be_a_dyne_app():
    schema = SCHEMAS["graphene"]([0])
    with pytest.raises(TypeError, match=r"needs a dyne\.App"):
        GraphQLView(app=object(), schema=schema)


@pytest.mark.parametrize("option", ["max_query_length", "max_tokens", "max_depth"])
@pytest.mark.parametrize("value", [0, -5, 1.5, "10"])
def test_limits_must_be_positive_integers(option, value):
    with pytest.raises(ValueError, match=option):
        GraphQLView(app=dyne.App(), schema=SCHEMAS["graphene"]([0]), **{option: value})


@pytest.mark.parametrize(("first", "second"), [("strawberry", "graphene"), ("graphene", "strawberry")])
def test_mixing_backends_in_one_app_raises(first, second):
    served = serve(first)
    routes_before = list(served.app.routes)
    other_schema = SCHEMAS[second]([0])
    with pytest.raises(RuntimeError, match="mixing GraphQL backends in one app is not supported"):
        GraphQLView(app=served.app, schema=other_schema)
    extension = served.app.extensions["graphql"]
    assert extension.backend == first
    assert extension.views == [served.view]
    assert served.app.routes == routes_before
    # The refused schema is fine in an app of its own.
    other = dyne.App()
    other.add_route("/graphql", GraphQLView(app=other, schema=other_schema))
    assert other.client.get("/graphql?query={hello}").json() == {"data": {"hello": "Hello stranger"}}


@pytest.mark.parametrize("backend", sorted(SCHEMAS))
def test_one_backend_can_serve_several_endpoints(backend):
    served = serve(backend)
    second = GraphQLView(app=served.app, schema=SCHEMAS[backend]([0]), graphiql=False)
    served.app.add_route("/admin/graphql", second)
    extension = served.app.extensions["graphql"]
    assert isinstance(extension, GraphQLExtension)
    assert extension.backend == backend
    assert extension.views == [served.view, second]
    assert repr(extension) == f"<GraphQLExtension backend='{backend}' views=2>"
    assert repr(second) == f"<GraphQLView backend='{backend}'>"
    # One asset route for the app, however many views.
    asset_routes = [r for r in served.app.routes if r.path.startswith("/_dyne/graphiql/")]
    assert len(asset_routes) == 1
    for path in ("/graphql", "/admin/graphql"):
        assert served.client.get(path, params={"q": "{ hello }"}).json() == {
            "data": {"hello": "Hello stranger"}}


def test_extension_slot_taken_by_something_else():
    app = dyne.App()
    app.extensions["graphql"] = "someone else's"
    with pytest.raises(RuntimeError, match="already taken"):
        GraphQLView(app=app, schema=SCHEMAS["graphene"]([0]))


def test_the_view_is_an_on_method_view_object():
    served = serve("graphene")
    (route,) = [r for r in served.app.routes if r.path == "/graphql"]
    assert route.is_view_object
    assert route.declared_methods() == {"GET", "HEAD", "POST", "OPTIONS"}


# -- imports -----------------------------------------------------------------------------

def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_dyne_and_dyne_ext_import_no_graphql_library():
    result = run_python("""
        import sys
        import dyne, dyne.ext, dyne.ext.graphql
        loaded = sorted(m for m in ("strawberry", "graphene", "graphql") if m in sys.modules)
        assert not loaded, loaded
        from dyne.ext import GraphQLView
        assert GraphQLView is dyne.ext.graphql.GraphQLView
        assert "strawberry" not in sys.modules and "graphene" not in sys.modules
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_dyne_ext_has_no_other_lazy_names():
    import dyne.ext

    assert dyne.ext.GraphQLView is GraphQLView
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        dyne.ext.Nope  # noqa: B018


@pytest.mark.parametrize(("module", "library", "extra"), [
    ("strawberry", "strawberry", "graphql_strawberry"),
    ("graphene", "graphene", "graphql_graphene"),
])
def test_missing_backend_names_the_extra_to_install(module, library, extra):
    result = run_python(f"""
        import sys
        sys.modules[{library!r}] = None  # as if it were not installed
        from dyne.ext.graphql import GraphQLView  # still importable
        try:
            import dyne.ext.graphql.{module}
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("no ImportError")
    """)
    assert result.returncode == 0, result.stderr
    assert f'pip install "dyne[{extra}]"' in result.stdout
