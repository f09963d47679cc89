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
from layers.city.buildings import BUILDINGS_DETAILS, building_layer
from layers.city.districts import DISTRICTS_DETAILS, district_layer
from layers.city.roads import ROADS_DETAILS, road_layer
from layers.codec import PackedLayer, pack_layer
from layers.lighting.cabinets import CABINETS_DETAILS, cabinet_layer, circuit_layer
from layers.lighting.colors import PUBLIC_LAMP_MODES, packed_lamp_colors
from layers.lighting.faults import fault_layer
from layers.lighting.lamps import LAMPS_DETAILS, lamp_layer
from layers.power.network import feeder_layer, station_layer
from layers.spec import Details, LayerSpec
from layers.traffic.flow import packed_traffic_playback, traffic_layer
from layers.transit.network import transit_line_layer, transit_stop_layer
from layers.water.network import dma_layer, node_layer, packed_pipe_colors, pipe_layer, source_layer
from simulation.traffic.scenarios import TrafficScenario


@dataclass(frozen=True)
class ColorModes:
    """Other ways to colour a layer: one uint8 RGBA column per mode, swapped in by the browser.

    ``pack(city, day, modes)`` packs ``modes`` (None: all); the first mode is the layer's own
    colours. ``open_modes``: those anyone who sees the layer may see; the others are drawn
    from the meters and need the RAW permission (None: every mode is open).
    """

    pack: Callable[[str, str, tuple[str, ...] | None], PackedLayer]
    accessor: str  # the deck.gl attribute the column replaces, e.g. "getFillColor"
    open_modes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LayerEntry:
    """One map layer: its id, how it is built, who may see it, its colour modes, what to warm."""

    id: str
    build: Callable[[City, str], LayerSpec]  # (city, telemetry day) -> spec
    public: bool = False  # the city's public space and aggregates; else the staff's
    colors: ColorModes | None = None
    details: Details | None = None  # the card of a clicked feature (else its tooltip's fields)
    details_of: str | None = None  # a layer whose features are another's (a fault is a lamp)
    # What else the layer serves, computed before the first request: (city, day) -> None.
    warm: Callable[[str, str], object] | None = None
    # A city may have none of it (no transit source): then the layer is empty, not offered.
    optional: bool = False


def city_layer(layer_id: str, builder: Callable[[City], LayerSpec], **options) -> LayerEntry:
    """An entry whose builder needs only the city (most layers ignore the telemetry day)."""
    return LayerEntry(layer_id, lambda city, _day: builder(city), **options)


def _pipe_colors(city: str, _day: str, _modes: tuple[str, ...] | None) -> PackedLayer:
    return packed_pipe_colors(city)  # the hydraulic baseline's, the same every day


def _traffic_playback(city: str, _day: str) -> PackedLayer:
    return packed_traffic_playback(city, TrafficScenario())  # today's traffic day


# Drawing order, bottom to top. A new layer is one line here (its builder in its domain folder).
# The utility networks, cabinets and lamp faults (the alerts) are the staff's.
LAYERS: tuple[LayerEntry, ...] = (
    city_layer("districts", district_layer, public=True, details=DISTRICTS_DETAILS),
    city_layer("water-dmas", dma_layer),
    city_layer("roads", road_layer, public=True, details=ROADS_DETAILS),
    city_layer("traffic", traffic_layer, public=True, warm=_traffic_playback),
    city_layer("transit-lines", transit_line_layer, public=True, optional=True),
    city_layer("water-pipes", pipe_layer, colors=ColorModes(_pipe_colors, "getColor")),
    city_layer("power-lines", feeder_layer),
    city_layer("buildings", building_layer, public=True, details=BUILDINGS_DETAILS),
    city_layer("transit-stops", transit_stop_layer, public=True, optional=True),
    city_layer("water-nodes", node_layer),
    city_layer("water-sources", source_layer),
    city_layer("circuits", circuit_layer, details_of="cabinets"),
    city_layer("cabinets", cabinet_layer, details=CABINETS_DETAILS),
    city_layer("power-stations", station_layer),
    city_layer(
        "lamps",
        lamp_layer,
        public=True,
        colors=ColorModes(packed_lamp_colors, "getFillColor", open_modes=PUBLIC_LAMP_MODES),
        details=LAMPS_DETAILS,
    ),
    LayerEntry("lamp-faults", fault_layer, details_of="lamps"),
)
LAYER_ENTRIES: dict[str, LayerEntry] = {e.id: e for e in LAYERS}
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


COLOR_SETS = ("all", "open")  # the sets of colour modes a layer serves: every one, the open ones


def color_modes_of(layer_id: str) -> ColorModes:
    """The colour modes of ``layer_id``; a layer without any raises `LayerSpecError`."""
    entry = LAYER_ENTRIES.get(layer_id)
    if entry is None or entry.colors is None:
        known = ", ".join(e.id for e in LAYERS if e.colors)
        raise LayerSpecError(f"no colour modes for layer {layer_id!r}; layers that have: {known}")
    return entry.colors


def packed_colors(city_name: str, layer_id: str, day: str, *, metered: bool) -> PackedLayer:
    """The colour modes of a layer: all of them if ``metered``, else only the open ones."""
    colors = color_modes_of(layer_id)
    return colors.pack(city_name, day, None if metered else colors.open_modes)


def warm_layers(city_name: str, day: str) -> None:
    """Pack every layer, its colour modes (both sets) and whatever else it warms."""
    for entry in LAYERS:
        packed_layer(city_name, entry.id, day)
        if entry.colors is not None:
            packed_colors(city_name, entry.id, day, metered=True)
            if entry.colors.open_modes is not None:
                packed_colors(city_name, entry.id, day, metered=False)
        if entry.warm is not None:
            entry.warm(city_name, day)


@functools.lru_cache(maxsize=32)
def packed_layer(city_name: str, layer_id: str, day: str) -> PackedLayer:
    """Manifest + binary blob of one layer of an embedded city (cached per process)."""
    return pack_layer(build_layer(load_city(city_name), layer_id, day))
