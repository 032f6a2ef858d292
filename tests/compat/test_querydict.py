"""Query strings as in the published Dyne 2.0.5 (tried against 2.0.5)."""

import pytest

import dyne
from dyne.datastructures import QueryDict
from dyne.models import QueryDict as ModelsQueryDict


def test_query_dict_compares_and_converts_with_lists():
    params = QueryDict("a=1&a=2&b=3")
    assert ModelsQueryDict is QueryDict
    assert isinstance(params, dict)
    assert params == {"a": ["1", "2"], "b": ["3"]}
    assert params != {"a": "2", "b": "3"}
    assert dict(params) == {"a": ["1", "2"], "b": ["3"]}
    assert repr(params) == "QueryDict({'a': ['1', '2'], 'b': ['3']})"


def test_single_values_and_lists():
    params = QueryDict("a=1&a=2&b=3")
    assert params["a"] == "2" and params.get("a") == "2"
    assert params.get_list("a") == ["1", "2"] == params.getlist("a")
    assert params.get_list("missing") == []
    assert params.get("missing") is None and params.get("missing", "d") == "d"
    assert list(params.items()) == [("a", "2"), ("b", "3")]
    assert list(params.items_list()) == [("a", ["1", "2"]), ("b", ["3"])]
    assert list(params) == ["a", "b"] and len(params) == 2
    assert params.to_dict() == {"a": "2", "b": "3"}
    with pytest.raises(KeyError):
        params["missing"]


def test_request_params():
    app = dyne.App()

    @app.route("/search")
    def search(req, resp):
        params = req.params
        resp.media = {"q": params["q"], "all": params.get_list("q"), "dict": dict(params),
                      "equal": params == {"q": ["a", "b"], "page": ["2"]}}

    assert app.client.get("/search?q=a&q=b&page=2").json() == {
        "q": "b", "all": ["a", "b"], "dict": {"q": ["a", "b"], "page": ["2"]}, "equal": True}
