"""Parsing Authorization headers: property tests. Whatever the input, the
parsers answer ``None`` or a value, and the app answers 200 or 401, never 500."""

from __future__ import annotations

import base64
import secrets

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyne
from dyne.ext.auth import BasicAuth, DigestAuth, MultiAuth, TokenAuth, authenticate
from dyne.ext.auth.stateless.headers import parse_auth_params, parse_basic, quote, split_scheme

NO_CONTROL = st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    *map(chr, range(0x20)), "\x7f"])
TOKEN = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                min_size=1, max_size=12)


@given(username=st.text(NO_CONTROL.filter(lambda c: c != ":"), max_size=30),
       password=st.text(NO_CONTROL, max_size=30))
def test_basic_credentials_round_trip(username, password):
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    assert parse_basic(encoded) == (username, password)


@given(st.text(max_size=200))
def test_parse_basic_never_raises(text):
    result = parse_basic(text)
    assert result is None or (isinstance(result, tuple) and len(result) == 2)


def _basic_oracle(raw: bytes) -> tuple[str, str] | None:
    """What RFC 7617 makes of decoded Basic credentials."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if ":" not in text or any(ord(c) < 0x20 or c == "\x7f" for c in text):
        return None
    username, _, password = text.partition(":")
    return username, password


_VALID_BASIC = st.builds(lambda user, password: f"{user}:{password}".encode(),
                         st.text(NO_CONTROL.filter(lambda c: c != ":"), max_size=20),
                         st.text(NO_CONTROL, max_size=20))
# Valid credentials, then each way of spoiling them, then anything at all.
_BASIC_BYTES = st.one_of(
    _VALID_BASIC,
    st.tuples(_VALID_BASIC, st.integers(0, 40), st.sampled_from([b"\x00", b"\n", b"\x1f", b"\x7f"])
              ).map(lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:]),
    _VALID_BASIC.map(lambda raw: raw.replace(b":", b"")),
    st.tuples(_VALID_BASIC, st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])
              ).map(lambda t: t[0] + t[1]),
    st.binary(max_size=120),
)


def test_parse_basic_of_any_bytes():
    seen = {"accepted": 0, "refused": 0}

    @settings(max_examples=300)
    @given(_BASIC_BYTES, st.booleans())
    def check(raw, keep_padding):
        encoded = base64.b64encode(raw).decode()
        result = parse_basic(encoded if keep_padding else encoded.rstrip("="))
        assert result == _basic_oracle(raw)
        if result is not None:
            assert f"{result[0]}:{result[1]}".encode() == raw
        seen["accepted" if result is not None else "refused"] += 1

    check()
    # Both answers were exercised, not only the easy one.
    assert seen["accepted"] >= 15 and seen["refused"] >= 15, seen


@given(st.dictionaries(TOKEN.map(str.lower), st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff),
                                                      max_size=30), max_size=6))
def test_auth_params_round_trip(params):
    text = ", ".join(f"{name}={quote(value)}" for name, value in params.items())
    assert parse_auth_params(text) == params


@given(st.text(max_size=300))
def test_parse_auth_params_never_raises(text):
    result = parse_auth_params(text)
    assert result is None or isinstance(result, dict)


@given(st.text(max_size=100))
def test_split_scheme_never_raises(text):
    scheme, rest = split_scheme(text)
    assert scheme == scheme.lower()
    assert rest == rest.strip()


SECRET = secrets.token_hex(16)  # no generated header can guess it


def fuzz_app():
    basic = BasicAuth()
    basic.verify_password(lambda u, p: u if p == SECRET else None)
    token = TokenAuth()
    token.verify_token(lambda t: "t" if t == SECRET else None)
    digest = DigestAuth()
    digest.get_password(lambda username: SECRET)
    app = dyne.App()
    for path, backend in (("/basic", basic), ("/token", token), ("/digest", digest),
                          ("/multi", MultiAuth(digest, token, basic))):
        async def view(req, resp):
            resp.text = "in"

        app.add_route(path, authenticate(backend)(view))
    return app


APP = fuzz_app()
HEADER_TEXT = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda scheme, rest: scheme + b" " + rest,
              st.sampled_from([b"Basic", b"Bearer", b"Digest", b"basic", b"digest"]),
              st.binary(max_size=300)),
    st.builds(lambda raw: b"Basic " + base64.b64encode(raw), st.binary(max_size=80)),
    st.builds(lambda text: ("Digest " + text).encode("utf-8"), st.text(max_size=200)),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(["/basic", "/token", "/digest", "/multi"]), header=HEADER_TEXT)
def test_any_authorization_header_gets_401_never_500(path, header):
    header = header.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
    response = APP.client.get(path, headers=[(b"authorization", header)])
    assert response.status_code == 401
