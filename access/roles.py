"""The twin's three audiences and what each may do; pure data, no Flask.

A role is a set of permissions. Pages, routes and callbacks ask for a permission, never for a
role by name, so a new role is one line here.
"""

from __future__ import annotations

from enum import StrEnum

from data.errors import AccessError


class Role(StrEnum):
    """Who is asking: the public (no login), a decision-maker or a planner."""

    PUBLIC = "public"
    DECISION_MAKER = "decision-maker"
    PLANNER = "planner"


# Permissions: what a request needs.
VIEW = "view"  # the 3D twin, aggregated layers, published scenarios, KPIs
STAFF_LAYERS = "staff-layers"  # utility networks, cabinets, circuits, lamp faults (alerts)
LIBRARY = "library"  # every stored run, not only the published ones; comparisons of any
PUBLISH = "publish"  # publish a run to the public view, with the decision taken on it
RUN = "run"  # create, preview, run, save and cancel scenarios
RAW = "raw"  # raw readings: metered lamp modes, per-lamp days, unsuppressed small cells
EXPORT = "export"  # downloads of stored runs (NetCDF, CSV, GeoJSON, brief)

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.PUBLIC: frozenset({VIEW}),
    Role.DECISION_MAKER: frozenset({VIEW, STAFF_LAYERS, LIBRARY, PUBLISH}),
    Role.PLANNER: frozenset({VIEW, STAFF_LAYERS, LIBRARY, PUBLISH, RUN, RAW, EXPORT}),
}
ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())

# Which role a permission first appears in, for messages ("needs the planner role").
_LEAST_ROLE = {
    permission: next(role for role in Role if permission in PERMISSIONS[role])
    for permission in ALL_PERMISSIONS
}


def parse_role(text: str) -> Role:
    """The role named ``text``; `AccessError` naming the known roles otherwise."""
    try:
        return Role(str(text).strip().lower())
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise AccessError(f"unknown role {text!r}; known: {known}") from None


def allows(role: Role, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (an unknown permission is never held)."""
    return permission in PERMISSIONS[role]


def least_role(permission: str) -> Role | None:
    """The first role (public, decision-maker, planner) holding ``permission``."""
    return _LEAST_ROLE.get(permission)
