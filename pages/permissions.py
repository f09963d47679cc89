"""What each part of the twin's page needs: component id -> permission (layers: see access).

One table serves both sides: the page leaves out what a role may not use, and the server
guard (`access.guard`) refuses any callback touching a component the role may not use.
An id that matches no entry is refused, so a new control is closed until classified here.
"""

from __future__ import annotations

from access.roles import LIBRARY, PUBLISH, RUN, STAFF_LAYERS, VIEW

# Component id (or id prefix ending in "-" or "_") -> permission; the longest match wins.
COMPONENTS: dict[str, str] = {
    "_pages_": VIEW,  # Dash pages' own location and content
    "twin-": VIEW,
    "layer-toggles": VIEW,
    "legends": VIEW,
    "lamp-color": VIEW,
    "pipe-color": VIEW,  # present (hidden) on every page: the legends callback reads it
    "feature-details": VIEW,
    "selected-feature": VIEW,
    "hex-": VIEW,  # telemetry hexagons; small cells are merged unless the role holds RAW
    "tr-": VIEW,  # the baseline traffic day
    "traffic-view": VIEW,
    "time-playing": VIEW,
    "share-": VIEW,
    "png-button": VIEW,
    "lang-": VIEW,
    "alerts": STAFF_LAYERS,  # the lamp faults of the day, with their layer
    "ls-": RUN,  # the lighting what-if studio
    "ns-": RUN,  # the utility-network what-if studio
    "tf-": RUN,  # the traffic what-if form
    "sc-": VIEW,  # the scenario library: the published runs, or every run with LIBRARY
    "sc-draft": RUN,
    "sc-name": RUN,
    "sc-status": RUN,
    "sc-progress": RUN,
    "sc-progress-text": RUN,
    "sc-cancel": RUN,
    "sc-publish": PUBLISH,
    "sc-withdraw": PUBLISH,
    "sc-decision": PUBLISH,
    "sc-publish-status": PUBLISH,
    "vx-": LIBRARY,  # the library's video export (rendered on the server: staff only)
}


def permission_of(component_id: str) -> str | None:
    """The permission a component needs, by the longest matching entry; None if unclassified."""
    if component_id in COMPONENTS:
        return COMPONENTS[component_id]
    prefixes = [key for key in COMPONENTS if key[-1] in "-_" and component_id.startswith(key)]
    return COMPONENTS[max(prefixes, key=len)] if prefixes else None
