"""Traffic on the map: the arterials coloured by congestion, speed or volume, hour by hour.

The ``traffic`` layer draws the roads the engine carries (coloured by the ordinary weekday's
08:00 congestion). A run's playback (`packed_traffic_playback`) is sent once per scenario:
per hour and arterial segment its speed, flow and works, each vertex's segment, the segments'
midpoints (3D columns extruded by volume) and sampled trips for deck.gl's TripsLayer. The
browser switches hours and colour modes itself (assets/traffic.js); no round trip per frame.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import shapely

import data.city
from data.city import City
from data.city.clock import time_zone
from data.traffic.network import traffic_network
from layers.codec import BlobWriter, PackedLayer
from layers.geometry import line_vertices
from layers.hexagons import epochs_ms
from layers.spec import LayerSpec, LegendEntry, path_layer
from layers.water.network import class_legend, classify
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.trips import sample_trips
from simulation.traffic.uxsim_engine import HOURS, TrafficResult, run_traffic, works_state

LAYER_ID = "traffic"
SHOWN_HOUR = 8  # the layer's own colours: the morning peak
TRIPS = 2000
# Speed as a share of free flow: the usual traffic-map reading (red: stop-and-go).
CONGESTION_BREAKS = (0.25, 0.5, 0.75, np.inf)
CONGESTION_COLORS = ((165, 0, 38), (244, 109, 67), (254, 224, 139), (26, 152, 80))
CONGESTION_LABELS = (
    "stop-and-go (under 25 % of free-flow speed)",
    "heavy (25-50 %)",
    "slowed (50-75 %)",
    "free-flowing (75 % and over)",
)
SPEED_BREAKS = (10, 20, 30, 45, 60, np.inf)  # km/h
SPEED_COLORS = ((165, 0, 38), (244, 109, 67), (254, 224, 139), (217, 239, 139),
                (102, 189, 99), (26, 152, 80))  # fmt: skip
VOLUME_BREAKS = (250, 500, 1000, 2000, 3000, np.inf)  # veh/h, both directions
VOLUME_COLORS = ((255, 255, 204), (199, 233, 180), (127, 205, 187), (65, 182, 196),
                 (44, 127, 184), (37, 52, 148))  # fmt: skip
CLOSED_COLOR = (200, 0, 200)
REDUCED_COLOR = (255, 120, 230)
MODES = ("congestion", "speed", "volume")


def congestion_legend() -> list[dict]:
    """Legend rows of the congestion colours."""
    return [
        {"label": label, "color": [*color, 255]}
        for label, color in zip(CONGESTION_LABELS, CONGESTION_COLORS, strict=True)
    ]


def mode_legends() -> dict[str, dict]:
    """Per colour mode: class breaks, colours and legend rows (for the browser)."""
    works = [
        {"label": "closed by works (what-if)", "color": [*CLOSED_COLOR, 255]},
        {"label": "lanes taken by works (what-if)", "color": [*REDUCED_COLOR, 255]},
    ]

    def mode(title, breaks, colors, rows):
        return {
            "title": title,
            "breaks": [float(b) if np.isfinite(b) else 1e9 for b in breaks],
            "colors": [[*c, 255] for c in colors],
            "legend": rows + works,
        }

    return {
        "congestion": mode(
            "Congestion (speed / free-flow speed)",
            CONGESTION_BREAKS,
            CONGESTION_COLORS,
            congestion_legend(),
        ),  # fmt: skip
        "speed": mode(
            "Mean speed",
            SPEED_BREAKS,
            SPEED_COLORS,
            class_legend(SPEED_BREAKS, "km/h", SPEED_COLORS),
        ),  # fmt: skip
        "volume": mode(
            "Volume (both directions)",
            VOLUME_BREAKS,
            VOLUME_COLORS,
            class_legend(VOLUME_BREAKS, "veh/h", VOLUME_COLORS),
        ),  # fmt: skip
    }


def carried_roads(city: City) -> pd.DataFrame:
    """The bundle's roads the engine carries, in bundle order, with their segment."""
    net = traffic_network(city)
    segment = net.road_segment(city.roads["road_id"])
    roads = city.roads[segment >= 0].copy()
    roads["segment"] = segment[segment >= 0]
    return roads


def traffic_layer(city: City) -> LayerSpec:
    """Arterials coloured by the ordinary weekday's congestion at `SHOWN_HOUR`."""
    roads = carried_roads(city)
    result = run_traffic(city)
    at = result.roads.sel(road=roads["road_id"].to_numpy())
    speed = at["speed_kmh"].isel(time=SHOWN_HOUR).to_numpy()
    flow = at["flow_veh_h"].isel(time=SHOWN_HOUR).to_numpy()
    free = at["free_speed_kmh"].to_numpy()
    vertices, starts = line_vertices(roads)
    deck_layer = path_layer(LAYER_ID, min_pixels=2)
    return LayerSpec(
        id=LAYER_ID,
        title="Traffic (simulated arterials)",
        deck_layer=deck_layer,
        length=len(roads),
        start_indices=starts,
        attributes={
            "getPath": vertices,
            "getColor": classify(speed / free, CONGESTION_BREAKS, CONGESTION_COLORS),
            "getWidth": volume_width(flow),
        },
        fields={
            "road_id": roads["road_id"],
            "name": roads["name"].fillna("").replace("", "(unnamed)"),
            "road_class": roads["road_class"],
            "segment": roads["segment"].astype(float),
            "speed_kmh": np.round(speed, 1),
            "free_speed_kmh": np.round(free, 1),
            "flow_veh_h": np.round(flow),
            "daily_vehicles": np.round(at["flow_veh_h"].sum("time").to_numpy()),
        },
        tooltip=(
            "{name} · {road_class}\n08:00: {speed_kmh} km/h (free flow {free_speed_kmh}), "
            "{flow_veh_h} veh/h\n{daily_vehicles} vehicles a day (both directions)"
        ),
        id_field="road_id",
        legend_title="Traffic at 08:00 (speed / free-flow speed)",
        legend=tuple(LegendEntry(r["label"], tuple(r["color"])) for r in congestion_legend()),
        visible=False,
    )


def volume_width(flow_veh_h: np.ndarray) -> np.ndarray:
    """Path width (m) growing with the volume: 6 m, +10 m per 1,000 veh/h, at most 46 m."""
    return np.clip(6 + np.asarray(flow_veh_h, float) / 100, 6, 46).astype(np.float32)


def packed_traffic_playback(city_name: str, scenario: TrafficScenario) -> PackedLayer:
    """A run's 24 hourly frames for the browser (cached per scenario)."""
    return _packed(city_name, scenario)


@functools.lru_cache(maxsize=8)
def _packed(city_name: str, scenario: TrafficScenario) -> PackedLayer:
    city = data.city.load_city(city_name)
    result = run_traffic(city, scenario)
    net = traffic_network(city)
    roads = carried_roads(city)
    _, starts = line_vertices(roads)
    vertex_segment = np.repeat(roads["segment"].to_numpy(), np.diff(starts.astype(np.int64)))
    seg = _segment_frames(net, result)
    mid = shapely.line_interpolate_point(net.segments.geometry.values, 0.5, normalized=True)
    trips = sample_trips(city, result, TRIPS)
    writer = BlobWriter()
    columns = {
        "vertexSegment": writer.add(vertex_segment.astype(np.uint16)),
        "speed": writer.add(np.clip(np.round(seg["speed"]), 0, 255).astype(np.uint8)),
        "flow": writer.add(np.clip(np.round(seg["flow"]), 0, 65535).astype(np.uint16)),
        "free": writer.add(np.clip(np.round(seg["free"]), 1, 255).astype(np.uint8)),
        "works": writer.add(seg["works"]),
        "midpoints": writer.add(shapely.get_coordinates(mid).astype(np.float32)),
        "tripPath": writer.add(trips.path),
        "tripTimes": writer.add(trips.timestamps),
        "tripStarts": writer.add(trips.starts),
    }
    blob = writer.getvalue()
    midnight = pd.Timestamp(scenario.day)
    labels = [(midnight + pd.Timedelta(hours=h)).strftime("%a %d %b %H:00") for h in range(HOURS)]
    manifest = {
        "kind": "traffic",
        "layer": LAYER_ID,
        "segments": len(net.segments),
        "frames": HOURS,
        "trips": len(trips),
        "times": labels,
        "epochs": epochs_ms(result.links["time"].to_numpy()),
        "timeZone": time_zone(city),
        "modes": mode_legends(),
        "closedColor": [*CLOSED_COLOR, 255],
        "reducedColor": [*REDUCED_COLOR, 255],
        "columns": columns,
        "newLink": _new_link(net, scenario),
        "emergency": _emergency_path(city, result),
        "byteLength": len(blob),
    }
    return PackedLayer(manifest, blob)


def _segment_frames(net, result: TrafficResult) -> dict[str, np.ndarray]:
    """(hour, segment) flow (sum of directions), speed (flow-weighted), works (worst)."""
    roads = result.roads
    first = pd.Series(np.arange(roads.sizes["road"])).groupby(roads["segment"].to_numpy()).first()
    n = len(net.segments)
    flow, speed = np.zeros((HOURS, n)), np.tile(net.segments["speed_kmh"].to_numpy(), (HOURS, 1))
    flow[:, first.index] = roads["flow_veh_h"].to_numpy()[:, first.to_numpy()]
    speed[:, first.index] = roads["speed_kmh"].to_numpy()[:, first.to_numpy()]
    works_links = works_state(net, result.scenario, net.links["link"].to_numpy())
    works = np.zeros((HOURS, n), np.uint8)
    np.maximum.at(works, (slice(None), net.links["segment"].to_numpy()), works_links)
    return {"flow": flow, "speed": speed, "free": net.segments["speed_kmh"].to_numpy(),
            "works": works}  # fmt: skip


def _new_link(net, scenario: TrafficScenario) -> list | None:
    if not scenario.new_link:
        return None
    xy = net.nodes.set_index("node_id")[["lon", "lat"]]
    return [xy.loc[n].round(6).tolist() for n in scenario.new_link]


def _emergency_path(city: City, result: TrafficResult) -> dict | None:
    trip = result.emergency
    if trip is None or not trip.road_ids:
        return None
    roads = city.roads.set_index("road_id").loc[list(trip.road_ids)]
    return {
        "paths": [np.round(shapely.get_coordinates(g), 6).tolist() for g in roads.geometry],
        "minutesInTraffic": round(trip.minutes_in_traffic, 1),
        "minutesWithPriority": round(trip.minutes_with_priority, 1),
    }
