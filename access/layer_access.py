"""Who may see a map layer: the public layers for everyone, the others for the staff.

The catalogue's entries say which layers are public (`layers.catalog.PUBLIC_LAYERS`); this
module turns that into the permission the page and the routes check.
"""

from __future__ import annotations

from access.roles import STAFF_LAYERS, VIEW
from layers.catalog import PUBLIC_LAYERS


def layer_permission(layer_id: str) -> str:
    """What seeing a map layer needs: VIEW for the public layers, STAFF_LAYERS otherwise."""
    return VIEW if layer_id in PUBLIC_LAYERS else STAFF_LAYERS
