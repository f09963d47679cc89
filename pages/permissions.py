"""What each part of the twin's page needs: component id -> permission (layers: see access).

Each panel declares its components' permissions beside them (its ``COMPONENTS``); the page's
own are here, and this module gathers them. One table serves both sides: the page leaves out
what a role may not use, and the server guard (`access.guard`) refuses any callback touching
a component the role may not use. An id that matches no entry is refused, so a new control
is closed until classified.
"""

from __future__ import annotations

import importlib

from access.roles import VIEW

# The panels that declare their components (their ``COMPONENTS``); a new panel is one name here.
PANELS = tuple(
    importlib.import_module(f"pages.{name}")
    for name in ("alerts", "lighting_studio", "network_studio", "scenario_library",
                 "telemetry_controls", "traffic_controls", "traffic_form", "video_export")
)  # fmt: skip
# The page's own components (pages.twin lays them out).
PAGE: dict[str, str] = {
    "_pages_": VIEW,  # Dash pages' own location and content
    "twin-": VIEW,
    "layer-toggles": VIEW,
    "legends": VIEW,
    "lamp-color": VIEW,
    "pipe-color": VIEW,  # present (hidden) on every page: the legends callback reads it
    "feature-details": VIEW,
    "selected-feature": VIEW,
    "time-playing": VIEW,
    "share-": VIEW,
    "png-button": VIEW,
    "lang-": VIEW,
}


def _gathered() -> dict[str, str]:
    table = dict(PAGE)
    for panel in PANELS:
        for key, permission in panel.COMPONENTS.items():
            if key in table:
                raise ValueError(f"component {key!r} of {panel.__name__} is declared twice")
            table[key] = permission
    return table


# Component id (or id prefix ending in "-" or "_") -> permission; the longest match wins.
COMPONENTS: dict[str, str] = _gathered()


def permission_of(component_id: str) -> str | None:
    """The permission a component needs, by the longest matching entry; None if unclassified."""
    if component_id in COMPONENTS:
        return COMPONENTS[component_id]
    prefixes = [key for key in COMPONENTS if key[-1] in "-_" and component_id.startswith(key)]
    return COMPONENTS[max(prefixes, key=len)] if prefixes else None
