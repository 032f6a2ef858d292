"""Safe redirect targets: same-site relative URLs only."""

from __future__ import annotations

import pytest
from hypothesis import given
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


@given(st.text(max_size=60))
def test_a_safe_url_never_leaves_the_site(url):
    from urllib.parse import urljoin, urlsplit

    if is_safe_url(url):
        resolved = urlsplit(urljoin("https://site.example/here/", url))
        assert resolved.netloc == "site.example"
        assert resolved.scheme == "https"
