"""Role requirements: a name, any of a list, all of an inner list."""

from __future__ import annotations

from enum import StrEnum

import pytest

from dyne.ext.auth.roles import normalize_roles, roles_allow, user_role_set


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


@pytest.mark.parametrize(("role", "expected"), [
    (None, None),
    ("admin", (frozenset({"admin"}),)),
    (["admin", "editor"], (frozenset({"admin"}), frozenset({"editor"}))),
    ([["admin", "super"]], (frozenset({"admin", "super"}),)),
    (("owner", ("a", "b")), (frozenset({"owner"}), frozenset({"a", "b"}))),
])
def test_normalize(role, expected):
    assert normalize_roles(role) == expected


@pytest.mark.parametrize(("required", "held", "allowed"), [
    ("admin", "admin", True),
    ("admin", ["user"], False),
    (["admin", "editor"], ["editor"], True),
    ([["admin", "super"]], ["admin"], False),
    ([["admin", "super"]], ["super", "admin", "x"], True),
    ("admin", None, False),
    (Role.ADMIN, ["admin"], True),
    (["admin"], [Role.ADMIN], True),
])
def test_allow(required, held, allowed):
    assert roles_allow(normalize_roles(required), user_role_set(held)) is allowed


def test_user_roles_must_be_names_or_collections():
    with pytest.raises(TypeError, match="get_user_roles"):
        user_role_set(5)
