"""Safe redirect targets: same-site relative URLs only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyne.ext.auth import is_safe_url


@pytest.mark.parametrize("url", ["/", "/dashboard", "/a/b?c=d#e", "/%2F%2Fevil.example", "/é"])
def test_safe(url):
    assert is_safe_url(url)


@pytest.mark.parametrize("url", [
    "", "dashboard", "https://evil.example", "//evil.example", "/\\evil.example", "\\/evil.example",
    "javascript:alert(1)", "/\tx", "/\nx", "/\x00x", " /x", None, 42, "http:/x",
])
def test_unsafe(url):
    assert not is_safe_url(url)


def _as_a_browser_reads_it(url: str) -> str:
    """What a browser makes of a ``Location`` value before resolving it (WHATWG
    URL): leading and trailing C0 controls and spaces stripped, tabs and line
    breaks removed, backslashes read as slashes, and any run of two or more
    leading slashes read as the start of a host (``///evil.example``)."""
    url = url.strip("".join(map(chr, range(0x21))))
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    url = url.replace("\\", "/")
    return "//" + url.lstrip("/") if url.startswith("//") else url


# Pieces an attacker strings together to leave the site, and harmless ones.
_PIECES = st.sampled_from([
    "/", "//", "\\", "/\\", "\t", "\n", "\r", " ", "\x00", "\x1f", ":", "@", "evil.example",
    "http:", "https:", "javascript:", "%2F", "%5C", "?", "#", "..", ".", "a", "page", "é", "=",
])
_URLS = st.one_of(
    # Safe by construction: a path of ordinary segments.
    st.lists(st.text("abcxyz0123456789-._~%é", max_size=8), max_size=4).map(lambda p: "/" + "/".join(p)),
    # The shape of an open redirect: slashes, look-alikes and stripped characters, then a host.
    st.tuples(st.lists(st.sampled_from(["/", "\\", "\t", "\n", "\r", " ", "\x00", "\x0b"]), max_size=4),
              st.sampled_from(["evil.example", "evil.example/x", "@evil.example", ""])
              ).map(lambda t: "/" + "".join(t[0]) + t[1]),
    # A leading slash followed by anything attackers use.
    st.lists(_PIECES, max_size=8).map(lambda p: "/" + "".join(p)),
    st.lists(_PIECES, min_size=1, max_size=8).map("".join),
    st.text(max_size=40),
)


def test_a_safe_url_never_leaves_the_site():
    from urllib.parse import urljoin, urlsplit

    seen = {"safe": 0, "unsafe": 0}

    @settings(max_examples=400)
    @given(_URLS)
    def check(url):
        if not is_safe_url(url):
            seen["unsafe"] += 1
            return
        seen["safe"] += 1
        # It can go into a Location header as it is (no header splitting)...
        assert all(0x20 <= ord(c) != 0x7F for c in url), url
        # ...and it resolves to this site, read literally or the way a browser reads it.
        for form in (url, _as_a_browser_reads_it(url)):
            resolved = urlsplit(urljoin("https://site.example/here/", form))
            assert (resolved.scheme, resolved.netloc) == ("https", "site.example"), (url, form)

    check()
    # The assertion above ran for many examples, and refusals were exercised too
    # (about a quarter of the examples are safe; the bound leaves room for chance).
    assert seen["safe"] >= 50 and seen["unsafe"] >= 50, seen


@pytest.mark.parametrize("url", [
    "/\\evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example", "///evil.example",
    "/\\/evil.example",
])
def test_urls_a_browser_would_send_elsewhere_are_unsafe(url):
    from urllib.parse import urljoin, urlsplit

    browser_target = urlsplit(urljoin("https://site.example/", _as_a_browser_reads_it(url)))
    assert browser_target.netloc == "evil.example"  # the reason for refusing it
    assert not is_safe_url(url)
