from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Query strings without "%" or "+" are split directly (the common case); the
# result must be exactly what urllib's parse_qsl gives, which still handles the rest.
@given(st.text(alphabet="ab=&;%+2Fé x/?#", max_size=24))
@settings(max_examples=500, deadline=None)
def test_query_dict_parses_like_parse_qsl(query):
    expected: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        expected.setdefault(key, []).append(value)
    params = QueryDict(query)
    assert dict(params.items_list()) == expected
    for key, values in expected.items():
        assert params.get(key) == values[-1]


def test_query_dict_get_gives_last_value_or_default():
    params = QueryDict("a=1&a=2&flag&&b=")
    assert params.get("a") == "2"
    assert params.get("flag") == ""
    assert params.get("b") == ""
    assert params.get("zzz") is None
    assert params.get("zzz", "d") == "d"
    assert list(params) == ["a", "flag", "b"]
