"""The documented import paths."""

from __future__ import annotations

import importlib

import pytest

STATELESS = ["authenticate", "BasicAuth", "TokenAuth", "DigestAuth", "MultiAuth"]
SESSION = ["LoginManager", "LoginMiddleware", "AuthFailureReason"]


@pytest.mark.parametrize(("module", "names"), [
    ("dyne.ext.auth", STATELESS + SESSION),
    ("dyne.ext.auth.stateless", STATELESS),
    ("dyne.ext.auth.stateless.backends", STATELESS),
    ("dyne.ext.auth.session", SESSION),
])
def test_documented_import_paths(module, names):
    imported = importlib.import_module(module)
    root = importlib.import_module("dyne.ext.auth")
    for name in names:
        assert getattr(imported, name) is getattr(root, name), (module, name)


def test_unknown_names_are_attribute_errors():
    backends = importlib.import_module("dyne.ext.auth.stateless.backends")
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        backends.Nope  # noqa: B018
