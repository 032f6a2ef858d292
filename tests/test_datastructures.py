import pytest

from dyne.datastructures import Address, CaseInsensitiveDict, Headers, QueryDict, State


def test_case_insensitive_dict_keeps_case():
    headers = CaseInsensitiveDict({"Content-Type": "text/plain"})
    headers["x-ID"] = "1"
    assert headers["content-type"] == "text/plain"
    assert list(headers) == ["Content-Type", "x-ID"]
    assert "X-id" in headers and 42 not in headers
    headers["X-Id"] = "2"
    assert list(headers.items()) == [("Content-Type", "text/plain"), ("X-Id", "2")]
    del headers["CONTENT-TYPE"]
    assert len(headers) == 1
    assert headers == {"x-id": "2"}
    assert headers.copy() == headers
    assert headers.get("missing", "d") == "d"
    assert list(headers.lower_items()) == [("x-id", "2")]


def test_request_headers_first_value_and_getlist():
    headers = Headers([(b"accept", b"a"), (b"x-tag", b"1"), (b"x-tag", b"2")])
    assert headers["Accept"] == "a"
    assert headers["x-tag"] == "1"
    assert headers.getlist("X-Tag") == ["1", "2"]
    assert "ACCEPT" in headers and len(headers) == 2
    with pytest.raises(KeyError):
        headers["nope"]
    assert Headers({"Host": "example.com"})["host"] == "example.com"


def test_query_dict_from_pairs():
    params = QueryDict([("a", "1"), ("a", "2")])
    assert params.getlist("a") == ["1", "2"]
    assert params.to_dict() == {"a": "2"}
    assert repr(params) == "QueryDict({'a': ['1', '2']})"
    assert QueryDict("") == {}


def test_state_and_address():
    state = State()
    state.user = "ann"
    assert state.user == "ann" and "user" in state
    with pytest.raises(AttributeError):
        del state.nothing
    host, port = Address("1.2.3.4", 80)
    assert (host, port) == ("1.2.3.4", 80)
