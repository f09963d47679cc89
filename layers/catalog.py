"""The catalogue of map layers: one place that names every layer and builds or packs it.

Packing is cached per (city, layer): several users share one process, nothing mutable is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from data.city import City, load_city
from data.errors import LayerSpecError
from layers.buildings import building_layer
from layers.codec import PackedLayer, pack_layer
from layers.districts import district_layer
from layers.lamps import lamp_layer
from layers.roads import road_layer
from layers.spec import LayerSpec

# Drawing order, bottom to top.
LAYER_BUILDERS: dict[str, Callable[[City], LayerSpec]] = {
    "districts": district_layer,
    "roads": road_layer,
    "buildings": building_layer,
    "lamps": lamp_layer,
}


def build_layer(city: City, layer_id: str) -> LayerSpec:
    """Build the spec of ``layer_id``; an unknown id raises `LayerSpecError` naming it."""
    try:
        builder = LAYER_BUILDERS[layer_id]
    except KeyError:
        known = ", ".join(LAYER_BUILDERS)
        raise LayerSpecError(f"unknown layer {layer_id!r}; known layers: {known}") from None
    return builder(city)


@functools.lru_cache(maxsize=32)
def packed_layer(city_name: str, layer_id: str) -> PackedLayer:
    """Manifest + binary blob of one layer of an embedded city (cached per process)."""
    return pack_layer(build_layer(load_city(city_name), layer_id))
