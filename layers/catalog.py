"""The catalogue of map layers: one place that names every layer and builds or packs it.

Every builder takes the city and the telemetry day (most ignore the day; the lamp faults are
those of that day). Packing is cached per (city, layer, day): several users share one process,
nothing mutable is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from data.city import City, load_city
from data.errors import LayerSpecError
from data.telemetry.day_cube import default_day
from layers.city.buildings import building_layer
from layers.city.districts import district_layer
from layers.city.roads import road_layer
from layers.codec import PackedLayer, pack_layer
from layers.lighting.cabinets import cabinet_layer, circuit_layer
from layers.lighting.faults import fault_layer
from layers.lighting.lamps import lamp_layer
from layers.power.network import feeder_layer, station_layer
from layers.spec import LayerSpec
from layers.traffic.flow import traffic_layer
from layers.water.network import dma_layer, node_layer, pipe_layer, source_layer


@dataclass(frozen=True)
class LayerEntry:
    """One map layer: its id, how it is built, and whether the public may see it."""

    id: str
    build: Callable[[City, str], LayerSpec]  # (city, telemetry day) -> spec
    public: bool = False  # the city's public space and aggregates; else the staff's


def city_layer(layer_id: str, builder: Callable[[City], LayerSpec], *, public: bool = False):
    """An entry whose builder needs only the city (most layers ignore the telemetry day)."""
    return LayerEntry(layer_id, lambda city, _day: builder(city), public)


# Drawing order, bottom to top. A new layer is one line here (its builder in its domain folder).
# The utility networks, cabinets and lamp faults (the alerts) are the staff's.
LAYERS: tuple[LayerEntry, ...] = (
    city_layer("districts", district_layer, public=True),
    city_layer("water-dmas", dma_layer),
    city_layer("roads", road_layer, public=True),
    city_layer("traffic", traffic_layer, public=True),
    city_layer("water-pipes", pipe_layer),
    city_layer("power-lines", feeder_layer),
    city_layer("buildings", building_layer, public=True),
    city_layer("water-nodes", node_layer),
    city_layer("water-sources", source_layer),
    city_layer("circuits", circuit_layer),
    city_layer("cabinets", cabinet_layer),
    city_layer("power-stations", station_layer),
    city_layer("lamps", lamp_layer, public=True),
    LayerEntry("lamp-faults", fault_layer),
)
LAYER_BUILDERS: dict[str, Callable[[City, str], LayerSpec]] = {e.id: e.build for e in LAYERS}
# Layers anyone may see.
PUBLIC_LAYERS = frozenset(e.id for e in LAYERS if e.public)


def build_layer(city: City, layer_id: str, day: str | None = None) -> LayerSpec:
    """Build the spec of ``layer_id`` for the telemetry ``day`` (default: yesterday).

    An unknown id raises `LayerSpecError` naming it.
    """
    try:
        builder = LAYER_BUILDERS[layer_id]
    except KeyError:
        known = ", ".join(LAYER_BUILDERS)
        raise LayerSpecError(f"unknown layer {layer_id!r}; known layers: {known}") from None
    return builder(city, day or default_day(city.name))


@functools.lru_cache(maxsize=32)
def packed_layer(city_name: str, layer_id: str, day: str) -> PackedLayer:
    """Manifest + binary blob of one layer of an embedded city (cached per process)."""
    return pack_layer(build_layer(load_city(city_name), layer_id, day))
