import pytest
from hypothesis import given
from hypothesis import strategies as st

from dyne.exceptions import HTTPException
from dyne.formats import (
    format_for_content_type,
    json_dumps,
    json_loads,
    msgpack_dumps,
    msgpack_loads,
    negotiate,
    parse_accept,
    yaml_dumps,
    yaml_loads,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_every_codec_round_trips(value):
    assert json_loads(json_dumps(value)) == value
    assert msgpack_loads(msgpack_dumps(value)) == value
    assert yaml_loads(yaml_dumps(value)) == value


@given(st.binary(max_size=200))
def test_decoders_never_fail_with_anything_but_400(data):
    for decode in (json_loads, yaml_loads, msgpack_loads):
        try:
            decode(data)
        except HTTPException as exc:
            assert exc.status_code == 400


def test_yaml_refuses_aliases_and_python_tags():
    bomb = b"a: &a ['x','x']\nb: &b [*a,*a]\nc: &c [*b,*b]\n"
    with pytest.raises(HTTPException, match="aliases"):
        yaml_loads(bomb)
    with pytest.raises(HTTPException):
        yaml_loads(b"!!python/object/apply:os.system ['echo hi']")


def test_yaml_dump_writes_repeated_objects_out():
    shared = [1]
    assert yaml_loads(yaml_dumps({"a": shared, "b": shared})) == {"a": [1], "b": [1]}
    assert b"&" not in yaml_dumps({"a": shared, "b": shared})


def test_content_type_formats():
    assert format_for_content_type("application/json") == "json"
    assert format_for_content_type("application/vnd.api+json") == "json"
    assert format_for_content_type("text/yaml") == "yaml"
    assert format_for_content_type("multipart/form-data") == "form"
    assert format_for_content_type("application/xml") is None


def test_parse_accept_orders_by_quality_then_position():
    assert parse_accept("a/a;q=0.5, b/b, c/c;q=0.9, d/d;q=bad") == [
        ("b/b", 1.0), ("c/c", 0.9), ("a/a", 0.5), ("d/d", 0.0)]


@given(st.text(max_size=100))
def test_negotiate_always_picks_something(accept):
    assert negotiate(accept)[0] in ("json", "yaml", "msgpack")


def test_json_handles_integers_beyond_64_bits():
    assert json_dumps({"big": 2**70}) == b'{"big":1180591620717411303424}'


def test_json_for_script_cannot_close_the_script_element():
    from dyne.formats import json_for_script

    text = json_for_script({"title": "</script><script>alert(1)</script><!--", "sep": "\u2028"})
    assert "</script>" not in text and "<!--" not in text and "\u2028" not in text
    import json

    assert json.loads(text) == {"title": "</script><script>alert(1)</script><!--", "sep": "\u2028"}
