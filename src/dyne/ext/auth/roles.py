"""Role requirements, shared by ``@authenticate`` and ``@login_required``.

A requirement is written as:

* a string: the user must have that role (``role="admin"``);
* a list of roles: any one of them is enough (``role=["admin", "editor"]``);
* a list whose items are lists: all roles of one inner list are needed
  (``role=[["admin", "super_user"]]``); plain strings and lists mix, each item
  being one acceptable alternative (``role=["owner", ["admin", "auditor"]]``).

It is normalised once, when the route is decorated, into alternatives (sets of
roles); a request then only checks whether one alternative is a subset of the
user's roles.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from dyne.endpoints import PHASE_AUTH, Metadata, get_endpoint_spec

__all__ = ["AuthMeta", "RoleRequirement", "check_scope_setup", "declare_auth", "normalize_roles",
           "roles_allow", "user_role_set"]

V = TypeVar("V")

#: Alternatives: the user must hold every role of at least one of them.
RoleRequirement = tuple[frozenset[Hashable], ...]


def _role_names(value: Any, where: str) -> frozenset[Hashable]:
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"{where}: a role is a string, got {value!r}")
    names = list(value)
    if not names:
        raise ValueError(f"{where}: an empty list of roles can never be satisfied")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{where}: roles inside a list of lists must be strings, got {name!r}")
    return frozenset(names)


def normalize_roles(role: Any) -> RoleRequirement | None:
    """Turn ``role=`` as written on a decorator into alternatives.

    ``None`` means "no role needed". Raises ``TypeError`` / ``ValueError`` for a
    requirement that could never be met, at decoration time rather than as a
    403 for everyone at run time.
    """
    if role is None:
        return None
    if isinstance(role, str):
        return (frozenset((role,)),)
    if isinstance(role, (bytes, bytearray)) or not isinstance(role, Iterable):
        raise TypeError(f"role= takes a string, a list of roles or a list of lists, got {role!r}")
    alternatives = tuple(_role_names(item, "role=") for item in role)
    if not alternatives:
        raise ValueError("role=[] can never be satisfied; leave role out to require no role")
    return alternatives


def user_role_set(roles: Any) -> frozenset[Hashable]:
    """What a ``get_user_roles`` callback returned, as a set: ``None`` is no
    role, a string is one role, any other iterable is several."""
    if roles is None:
        return frozenset()
    if isinstance(roles, str):
        return frozenset((roles,))
    try:
        return frozenset(roles)
    except TypeError:
        raise TypeError("get_user_roles must return a role name, a list of role names or None, "
                        f"got {roles!r}") from None


def roles_allow(requirement: RoleRequirement, user_roles: frozenset[Hashable]) -> bool:
    """Whether the user's roles satisfy one of the alternatives."""
    return any(alternative <= user_roles for alternative in requirement)


@dataclass(frozen=True, eq=False)
class AuthMeta(Metadata):
    """One authentication requirement, in ``meta["auth"]`` (a list: every
    entry must pass)."""

    #: The backend (``BasicAuth``, ``TokenAuth``... or a ``LoginManager``); it
    #: describes itself with ``security_schemes()`` / ``security_requirements()``.
    backend: Any
    #: ``role=`` exactly as given (``None``: no role needed).
    role: Any = None
    #: The same normalised: alternatives, each a sorted list of roles that
    #: must all be held (``None`` without a role). Computed from ``role``
    #: when not given.
    roles: list[list[str]] | None = None

    # Set by ``declare_auth`` on the record (not fields: the record still
    # equals the dict of its three fields).
    #: ``optional=True``: a request without credentials passes (the user is
    #: ``None``); OpenAPI lists the empty requirement ``{}`` as an alternative.
    optional = False
    #: The pipeline step checking a request (``None`` for a record made by hand).
    step = None
    #: ``guard(ws)`` checking a websocket before it is accepted, or ``None``
    #: when the backend cannot authenticate websockets.
    websocket_guard = None

    def __post_init__(self) -> None:
        if self.roles is None and self.role is not None:
            requirement = normalize_roles(self.role)
            assert requirement is not None
            object.__setattr__(self, "roles", _sorted_alternatives(requirement))


def _sorted_alternatives(requirement: RoleRequirement) -> list[list[str]]:
    return [sorted(map(str, group)) for group in requirement]


def check_scope_setup(target: Any, what: str) -> None:
    """When ``target`` is a route group or an app, refuse to declare ``what``
    on it once its routes have compiled (they would never apply it)."""
    if getattr(target, "_dyne_scope", False) is not True:
        return
    router = getattr(target, "router", None)
    if router is not None:  # an App: its routes compile one by one
        if any(getattr(route, "handler", None) is not None or getattr(route, "hooks", None) is not None
               for route in router.routes):
            from dyne.scaffold import SetupFinishedError

            raise SetupFinishedError(f"Cannot {what} on {target!r}: its routes have already served "
                                     "requests. Declare it before the application serves.")
    else:
        target.check_setup(what)


def declare_auth(target: V, step: Callable[..., Any], owner: Any, role: Any,
                 requirement: RoleRequirement | None, *, optional: bool = False,
                 websocket_guard: Callable[..., Any] | None = None) -> V:
    """Add an authentication ``step`` to ``target``'s endpoint spec (at
    ``PHASE_AUTH``) and record it in ``meta["auth"]`` for documentation tools
    as an ``AuthMeta``. ``target`` is a view, or a route group or app (for
    all their routes)."""
    check_scope_setup(target, "declare authentication")
    spec = get_endpoint_spec(target, scope=True)
    assert spec is not None
    spec.add_step(step, PHASE_AUTH)
    record = AuthMeta(backend=owner, role=role,
                      roles=None if requirement is None else _sorted_alternatives(requirement))
    object.__setattr__(record, "optional", optional)
    object.__setattr__(record, "step", step)
    object.__setattr__(record, "websocket_guard", websocket_guard)
    spec.meta.setdefault("auth", []).append(record)
    return target
