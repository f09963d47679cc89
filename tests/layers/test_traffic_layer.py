"""The traffic layer and a run's playback: what the browser receives matches the engine."""

import json
import urllib.parse

import numpy as np
import pytest

from data.traffic.network import traffic_network
from layers.catalog import build_layer
from layers.network_playback import packed_network_playback
from layers.traffic.flow import CLOSED_COLOR, carried_roads, packed_traffic_playback
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import CLOSED, run_traffic


def column(packed, name):
    d = packed.manifest["columns"][name]
    return np.frombuffer(packed.blob, dtype=d["dtype"], count=d["count"], offset=d["offset"])


@pytest.fixture(scope="module")
def busiest(city):
    """Road id and segment of the busiest arterial at 08:00."""
    roads = run_traffic(city).roads
    k = int(np.argmax(roads["flow_veh_h"].isel(time=8).to_numpy()))
    return str(roads["road"][k].item()), int(roads["segment"][k])


def test_the_layer_draws_the_carried_roads_in_morning_colours(city):
    spec = build_layer(city, "traffic")
    roads = carried_roads(city)
    assert spec.length == len(roads) and not spec.visible
    assert list(spec.fields["road_id"]) == list(roads["road_id"])
    speed, free = spec.fields["speed_kmh"], spec.fields["free_speed_kmh"]
    congested = speed / free < 0.25
    assert 0 < congested.mean() < 0.5, "some arterials crawl at 08:00, most do not"
    colors = spec.attributes["getColor"][congested]
    assert (colors[:, :3] == (165, 0, 38)).all()


def test_the_playback_is_the_runs_frames_per_segment(city):
    packed = packed_traffic_playback(city.name, TrafficScenario())
    m, net = packed.manifest, traffic_network(city)
    spec = build_layer(city, "traffic")
    assert m["segments"] == len(net.segments) and m["frames"] == 24
    assert len(column(packed, "vertexSegment")) == int(spec.start_indices[-1])
    assert m["byteLength"] == len(packed.blob) < 1_000_000
    roads = run_traffic(city).roads
    first = np.unique(roads["segment"].to_numpy(), return_index=True)[1]
    flow = column(packed, "flow").reshape(24, -1)
    assert np.array_equal(flow, np.round(roads["flow_veh_h"].to_numpy()[:, first]))
    assert not column(packed, "works").any()
    # trips: seconds of the day, rising along each trip, and more of them at the peaks
    times, starts = column(packed, "tripTimes"), column(packed, "tripStarts")
    assert m["trips"] == len(starts) - 1 > 1500
    assert 0 <= times.min() and times.max() < 30 * 3600
    inside = np.ones(len(times) - 1, bool)
    inside[starts[1:-1] - 1] = False
    assert (np.diff(times)[inside] >= 0).all()
    departures = times[starts[:-1]] // 3600
    assert (departures == 8).sum() > 4 * (departures == 3).sum()


def test_a_closure_is_marked_on_its_segment_during_the_works(city, busiest):
    road, segment = busiest
    scenario = TrafficScenario(closed_roads=(road,), closure_from_h=7, closure_to_h=12)
    packed = packed_traffic_playback(city.name, scenario)
    works = column(packed, "works").reshape(24, -1)
    assert (works[7:12, segment] == CLOSED).all()
    assert not works[:7].any() and not works[12:].any()
    assert packed.manifest["closedColor"] == [*CLOSED_COLOR, 255]
    # its delay change against today shows on the hexagons
    cube = run_traffic(city, scenario).cube
    assert float(cube["delay_change_veh_h"].isel(time=9).sum()) > 0
    hexes = packed_network_playback(city.name, scenario, "delay_change_veh_h")
    assert hexes.manifest["kind"] == "network"


def test_the_route_serves_playbacks_and_names_bad_scenarios(client, city, busiest):
    ok = client.get(f"/api/traffic/{city.name}/playback.bin")
    assert ok.status_code == 200
    assert (
        len(ok.data) == packed_traffic_playback(city.name, TrafficScenario()).manifest["byteLength"]
    )
    bad = json.dumps({"closed_roads": ["CAS-R000001"]})
    refused = client.get(
        f"/api/traffic/{city.name}/playback.bin?" + urllib.parse.urlencode({"scenario": bad})
    )
    assert refused.status_code == 422 and "CAS-R000001" in refused.json["error"]
    forged = client.get(f"/api/traffic/{city.name}/playback.bin?scenario=%7B%22x%22%3A1%7D")
    assert forged.status_code == 422 and "unknown field(s) ['x']" in forged.json["error"]
    assert client.get("/api/traffic/rabat/playback.bin").status_code == 404
    assert client.get(f"/api/traffic/{city.name}/frames.bin").status_code == 404


@pytest.fixture()
def client(client_as):
    return client_as("planner")  # every route open; tests/test_roles.py covers the others
