"""Which URLs are safe to redirect to after a login or a logout.

Only same-site relative URLs are: a path beginning with a single ``/``. That
refuses absolute URLs (``https://evil.example``), scheme-relative ones
(``//evil.example``), the backslash forms browsers read as slashes
(``/\\evil.example``), other schemes (``javascript:``...) and anything with
control characters, which browsers strip before parsing.
"""

from __future__ import annotations

from dyne.redirects import is_safe_url

__all__ = ["is_safe_url"]
