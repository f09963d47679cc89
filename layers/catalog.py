"""The catalogue of map layers: one place that names every layer and builds or packs it.

Every builder takes the city and the telemetry day (most ignore the day; the lamp faults are
those of that day). Packing is cached per (city, layer, day): several users share one process,
nothing mutable is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

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


def _city_only(builder: Callable[[City], LayerSpec]) -> Callable[[City, str], LayerSpec]:
    return lambda city, _day: builder(city)


# Drawing order, bottom to top.
LAYER_BUILDERS: dict[str, Callable[[City, str], LayerSpec]] = {
    "districts": _city_only(district_layer),
    "water-dmas": _city_only(dma_layer),
    "roads": _city_only(road_layer),
    "traffic": _city_only(traffic_layer),
    "water-pipes": _city_only(pipe_layer),
    "power-lines": _city_only(feeder_layer),
    "buildings": _city_only(building_layer),
    "water-nodes": _city_only(node_layer),
    "water-sources": _city_only(source_layer),
    "circuits": _city_only(circuit_layer),
    "cabinets": _city_only(cabinet_layer),
    "power-stations": _city_only(station_layer),
    "lamps": _city_only(lamp_layer),
    "lamp-faults": fault_layer,
}


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
