"""City traffic on the arterial network (UXsim): network, demand, the baseline day, what-ifs.

Three engine runs in all (~10 s each): the baseline (module fixture, reused by the emergency
route through the engine cache), a road closure and +5% demand. No mocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulation.traffic.uxsim_engine
from data.city.clock import local_midnight, utc_offset
from data.traffic.demand import CAR_TRIPS_PER_PERSON, OUTBOUND_SHARE, demand
from data.traffic.network import ARTERIAL_CLASSES, GREEN_SHARE, SATURATION_VEH_H, traffic_network
from simulation.traffic.scenarios import DEFAULT_DAY, TrafficScenario, TrafficScenarioError
from simulation.traffic.uxsim_engine import PLATOON, run_traffic

MORNING, EVENING, NIGHT = 8, 18, 3  # local hours = positions on the time axis


@pytest.fixture(scope="module")
def net(city):
    return traffic_network(city)


@pytest.fixture(scope="module")
def dem(city):
    return demand(city)


@pytest.fixture(scope="module")
def baseline(city_name):
    return run_traffic(city_name, TrafficScenario())


@pytest.fixture(scope="module")
def busiest_segment(baseline) -> int:
    """Segment of the link that carries most vehicles at 08:00 in the baseline."""
    flow = baseline.links["flow_veh_h"].isel(time=MORNING).to_numpy()
    return int(baseline.links["segment"].to_numpy()[int(np.argmax(flow))])


def _segment_flow(result, segment: int) -> np.ndarray:
    """Vehicles entering the segment per hour, both directions."""
    on = result.links["segment"].to_numpy() == segment
    return result.links["flow_veh_h"].to_numpy()[:, on].sum(axis=1)


# --- network --------------------------------------------------------------------------------


def test_links_join_known_nodes_two_per_segment(net):
    links, nodes = net.links, set(net.nodes["node_id"])
    assert len(net.segments) > 100
    assert links["start"].isin(nodes).all() and links["end"].isin(nodes).all()
    # every node is used by some segment
    assert nodes == set(net.segments["u"]) | set(net.segments["v"])
    assert (links.groupby("segment").size() == 2).all()
    assert set(links["segment"]) == set(net.segments["segment"])
    # the two links of a segment run opposite ways between its ends
    seg = net.segments.set_index("segment")
    fwd, back = links[links["direction"] == 0], links[links["direction"] == 1]
    assert (fwd["start"].to_numpy() == seg.loc[fwd["segment"], "u"].to_numpy()).all()
    assert (fwd["end"].to_numpy() == seg.loc[fwd["segment"], "v"].to_numpy()).all()
    assert (back["start"].to_numpy() == fwd["end"].to_numpy()).all()
    assert (back["end"].to_numpy() == fwd["start"].to_numpy()).all()
    assert (links["start"] != links["end"]).all()
    # the engine takes one link per node pair and direction
    assert not links.duplicated(["start", "end"]).any()


def test_each_road_is_in_at_most_one_segment_and_lookups_agree(city, net):
    road_ids = np.concatenate(net.segments["road_ids"].map(list).to_numpy())
    assert len(road_ids) == len(set(road_ids))
    segment_of = net.road_segment(road_ids)
    expected = np.repeat(net.segments["segment"].to_numpy(), net.segments["road_ids"].map(len))
    assert (segment_of == expected).all()
    local = city.roads.loc[city.roads["road_class"] == "residential", "road_id"].iloc[:5]
    assert (net.road_segment(list(local) + ["no-such-road"]) == -1).all()
    # a segment is as long as its roads
    length = city.roads.set_index("road_id")["length_m"]
    sums = net.segments["road_ids"].map(lambda ids: length.loc[list(ids)].sum())
    assert np.allclose(net.segments["length_m"], sums)


def test_segments_carry_only_arterials_and_most_of_them(city, net):
    road_ids = np.concatenate(net.segments["road_ids"].map(list).to_numpy())
    roads = city.roads.set_index("road_id")
    assert set(roads.loc[road_ids, "road_class"]) <= {"motorway", "primary", "secondary"}
    assert set(net.segments["road_class"]) <= set(ARTERIAL_CLASSES)
    arterial = city.roads[city.roads["road_class"].isin(ARTERIAL_CLASSES)]
    assert len(road_ids) / len(arterial) > 0.7
    carried = arterial["road_id"].isin(road_ids)
    assert arterial.loc[carried, "length_m"].sum() / arterial["length_m"].sum() > 0.8


def test_link_capacity_follows_lanes_and_signals(net):
    links = net.links
    assert (links["lanes"] >= 1).all()
    green = np.where(links["signalised"], GREEN_SHARE, 1.0)
    assert np.allclose(links["capacity_veh_h"], links["lanes"] * SATURATION_VEH_H * green)
    # motorways meeting only motorways are grade-separated: some links are unsignalised
    assert (~links["signalised"]).any() and links["signalised"].any()


def test_segment_geometry_runs_from_u_towards_v(net):
    """Chains of reversed roads are flipped: the line starts nearer u than v."""
    xy = net.nodes.set_index("node_id")[["lon", "lat"]]
    long = net.segments[net.segments["length_m"] > 1000]
    lines = long
    first = np.array([g.coords[0] for g in lines.geometry])
    to_u = np.hypot(*(first - xy.loc[lines["u"]].to_numpy()).T)
    to_v = np.hypot(*(first - xy.loc[lines["v"]].to_numpy()).T)
    assert (to_u < to_v).all()


def test_segment_geometry_is_one_line(net):
    types = set(net.segments.geometry.geom_type)
    assert types == {"LineString"}


# --- demand ---------------------------------------------------------------------------------


def test_daily_trips_are_the_rate_per_person_without_intrazonal_trips(city, dem):
    population = dem.zones["population"].sum()
    if (city.districts["population"] > 0).all():  # a census (OSM towns: floor area instead)
        # every district's people land in some zone
        assert population == pytest.approx(city.districts["population"].sum(), rel=1e-6)
    assert dem.total == pytest.approx(CAR_TRIPS_PER_PERSON * population, rel=1e-9)
    assert dem.trips.shape == (24, len(dem.zones), len(dem.zones))
    assert (dem.trips >= 0).all()
    assert np.diagonal(dem.trips, axis1=1, axis2=2).max() == 0  # intra-zone: local streets
    assert dem.zones["jobs"].sum() == pytest.approx(population)


def test_demand_peaks_in_the_morning_and_evening(dem):
    hourly = dem.trips.sum(axis=(1, 2))
    assert hourly[MORNING] > 5 * hourly[NIGHT]
    assert int(np.argmax(hourly[:12])) == MORNING
    assert int(np.argmax(hourly[12:])) + 12 == EVENING


def test_morning_trips_leave_home_evening_trips_return(dem):
    """trips[h] = n_h (s_h W + (1 - s_h) W.T), W home -> work (rows: home zones): the
    origin and destination totals give back the outbound share s_h of OUTBOUND_SHARE."""
    home = (dem.zones["population"] / dem.zones["population"].sum()).to_numpy()

    def outbound_share(hour: int) -> float:
        n = dem.trips[hour].sum()
        leave, arrive = dem.trips[hour].sum(axis=1) / n, dem.trips[hour].sum(axis=0) / n
        # leave - arrive = (2 s - 1) (home - work), work = leave + arrive - home
        lever = 2 * home - leave - arrive
        return 0.5 * (1 + float((leave - arrive) @ lever / (lever @ lever)))

    assert outbound_share(MORNING) == pytest.approx(OUTBOUND_SHARE[MORNING], abs=1e-6)
    assert outbound_share(EVENING) == pytest.approx(OUTBOUND_SHARE[EVENING], abs=1e-6)
    # between two zones, the morning's imbalance is the evening's reversed
    t8, t18 = dem.trips[MORNING], dem.trips[EVENING]
    s8, s18 = OUTBOUND_SHARE[MORNING], OUTBOUND_SHARE[EVENING]
    morning = (t8 - t8.T) / t8.sum() / (2 * s8 - 1)
    evening = (t18 - t18.T) / t18.sum() / (2 * s18 - 1)
    assert np.allclose(morning, evening, atol=1e-12)
    # the most residential zone sends more than it receives at 08:00
    homes = int(np.argmax(home - dem.zones["jobs"].to_numpy() / dem.zones["jobs"].sum()))
    assert t8[homes].sum() > 1.2 * t8[:, homes].sum()
    assert t18[homes].sum() < t18[:, homes].sum()


# --- baseline day ---------------------------------------------------------------------------


def test_baseline_every_vehicle_arrives(baseline, dem):
    k, engine = baseline.kpis, baseline.engine
    assert k.trips_unfinished == 0
    assert k.trips + k.trips_unfinished == engine["vehicles"]
    assert engine["vehicles"] % PLATOON == 0
    # Poisson draws of platoons of the demand: within a percent of the matrices' total
    assert engine["vehicles"] == pytest.approx(dem.total, rel=0.01)
    assert engine["links"] == baseline.links.sizes["link"]
    assert baseline.emergency is None and baseline.bus_minutes is None


def test_baseline_peaks_are_slower_and_busier_than_the_night(baseline):
    links = baseline.links
    speed = links["speed_kmh"].mean("link").to_numpy()
    flow = links["flow_veh_h"].sum("link").to_numpy()
    for peak in (MORNING, EVENING):
        assert speed[peak] < 0.9 * speed[NIGHT]
        assert flow[NIGHT] < 0.2 * flow[peak]
    # at night the network runs near free flow
    free = links["free_speed_kmh"].mean().item()
    assert speed[NIGHT] > 0.9 * free
    assert np.isfinite(links["speed_kmh"]).all() and (links["speed_kmh"] > 0).all()
    assert (links["flow_veh_h"] >= 0).all()
    k = baseline.kpis
    assert 0 < k.delay_veh_h < k.vehicle_hours
    assert k.mean_speed_kmh == pytest.approx(k.vehicle_km / k.vehicle_hours)
    assert k.congested_link_hours > 0 and k.peak_congested_km > 0


def test_roads_carry_their_segments_flows(baseline, net):
    roads = baseline.roads
    assert roads.sizes["road"] == sum(map(len, net.segments["road_ids"]))
    segments = roads["segment"].to_numpy()
    for segment in np.unique(segments)[::40]:
        on_road = roads["flow_veh_h"].to_numpy()[:, segments == segment]
        assert np.allclose(on_road, _segment_flow(baseline, segment)[:, None])


def test_cube_vehicle_km_is_the_roads_flow_times_length(baseline, city):
    roads, cube = baseline.roads, baseline.cube
    km = city.roads.set_index("road_id").loc[roads["road"].to_numpy(), "length_m"] / 1000
    road_vkm = (roads["flow_veh_h"].to_numpy() * km.to_numpy()).sum(axis=1)
    assert np.allclose(cube["vehicle_km"].sum("cell").to_numpy(), road_vkm)
    assert cube.attrs["h3_resolution"] == simulation.traffic.uxsim_engine.CELL_RES
    # the KPI counts the same kilometres (the map's lengths, not the engine's stretched ones)
    assert baseline.kpis.vehicle_km == pytest.approx(road_vkm.sum(), rel=1e-6)


def test_co2_per_vehicle_km_is_a_car_fleets(baseline):
    k = baseline.kpis
    g_per_km = k.co2_t * 1e6 / k.vehicle_km
    assert 100 < g_per_km < 400


def test_times_are_utc_from_local_midnight(baseline, city_name):
    assert utc_offset("casablanca", DEFAULT_DAY) == pd.Timedelta(hours=1)
    midnight = local_midnight(city_name, DEFAULT_DAY)
    expected = pd.date_range(midnight, periods=24, freq="h").to_numpy()
    for ds in (baseline.links, baseline.roads, baseline.cube):
        assert (ds["time"].to_numpy() == expected).all()
    if city_name == "casablanca":
        assert baseline.cube["time"].to_numpy()[0] == np.datetime64("2026-11-22T23:00")


# --- what-ifs -------------------------------------------------------------------------------


def test_closing_the_busiest_segment_empties_it_until_it_reopens(
    city_name, net, baseline, busiest_segment
):
    road = net.segments.at[busiest_segment, "road_ids"][0]
    scenario = TrafficScenario(closed_roads=(road,), closure_from_h=7, closure_to_h=12)
    result = run_traffic(city_name, scenario)
    closed = _segment_flow(result, busiest_segment)
    before = _segment_flow(baseline, busiest_segment)
    assert before[8:12].min() > 0  # it is busy in the baseline
    assert closed[8:12].max() < PLATOON  # less than one platoon while closed
    assert closed[14] > 0 and closed[EVENING] > 0  # back in use after reopening
    road_flow = result.roads["flow_veh_h"].sel(road=road).to_numpy()
    assert road_flow[8:12].max() < PLATOON and road_flow[EVENING] > 0
    # nothing changes before the works start
    flows = result.links["flow_veh_h"].to_numpy()
    assert np.array_equal(flows[:7], baseline.links["flow_veh_h"].to_numpy()[:7])
    # same vehicles, all arrive, and the detours cost time
    assert result.engine["vehicles"] == baseline.engine["vehicles"]
    assert result.kpis.trips_unfinished == 0
    assert result.kpis.vehicle_hours > baseline.kpis.vehicle_hours
    assert result.kpis.delay_veh_h > baseline.kpis.delay_veh_h


def test_five_percent_more_demand_means_five_percent_more_vehicles_and_slower_roads(
    city_name, baseline
):
    result = run_traffic(city_name, TrafficScenario(demand_growth_pct=5))
    assert result.engine["vehicles"] / baseline.engine["vehicles"] == pytest.approx(1.05, abs=0.01)
    assert result.kpis.trips_unfinished == 0
    assert result.kpis.vehicle_km > baseline.kpis.vehicle_km
    assert result.kpis.vehicle_hours / baseline.kpis.vehicle_hours > 1.05  # congestion compounds
    assert result.kpis.mean_speed_kmh < baseline.kpis.mean_speed_kmh


def test_emergency_route_reuses_the_baseline_run_and_priority_is_faster(
    city_name, net, baseline, city
):
    nodes = net.nodes
    a = int(nodes.loc[(nodes["x"] + nodes["y"]).idxmin(), "node_id"])
    b = int(nodes.loc[(nodes["x"] + nodes["y"]).idxmax(), "node_id"])
    before = simulation.traffic.uxsim_engine._engine_run.cache_info()
    result = run_traffic(city_name, TrafficScenario(emergency_route=(a, b)))
    after = simulation.traffic.uxsim_engine._engine_run.cache_info()
    assert after.misses == before.misses and after.hits > before.hits  # no engine run
    assert result.links is baseline.links and result.kpis == baseline.kpis
    trip = result.emergency
    assert len(trip.road_ids) > 0
    assert (net.road_segment(trip.road_ids) >= 0).all()
    km = city.roads.set_index("road_id").loc[list(trip.road_ids), "length_m"].sum() / 1000
    assert trip.length_km == pytest.approx(km, rel=0.05)
    assert 0 < trip.minutes_with_priority < trip.minutes_in_traffic
    # never faster than the fastest road's limit
    assert trip.minutes_with_priority > trip.length_km / net.links["speed_kmh"].max() * 60


# --- scenario validation --------------------------------------------------------------------


def test_a_local_street_cannot_be_closed(city, net, city_name):
    street = city.roads.loc[city.roads["road_class"] == "residential", "road_id"].iloc[0]
    scenario = TrafficScenario(closed_roads=(street,))
    with pytest.raises(TrafficScenarioError, match="closed_roads") as err:
        scenario.validate(net)
    assert street in str(err.value)
    with pytest.raises(TrafficScenarioError, match=street):  # before any engine run
        run_traffic(city_name, scenario)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"closure_from_h": 10, "closure_to_h": 10}, "closure_to_h"),
        ({"closure_from_h": 12, "closure_to_h": 9}, "closure_to_h"),
        ({"demand_growth_pct": 250}, "demand_growth_pct"),
        ({"demand_growth_pct": -95}, "demand_growth_pct"),
        ({"lanes_open": 1.5}, "lanes_open"),
        ({"new_link": (0, -1)}, "new_link"),
        ({"emergency_route": (0,)}, "emergency_route"),
        ({"bus_lane": True}, "corridor_roads"),
        ({"corridor_roads": ("no-such-road",)}, "corridor_roads"),
        ({"day": "23/11/2026"}, "day"),
    ],
)
def test_bad_scenarios_name_the_field(net, change, field):
    road = net.segments.at[0, "road_ids"][0]
    scenario = TrafficScenario(**{"closed_roads": (road,), **change})
    with pytest.raises(TrafficScenarioError, match=field):
        scenario.validate(net)


def test_new_link_with_an_unknown_node_names_it(net):
    known = int(net.nodes["node_id"].iloc[0])
    unknown = int(net.nodes["node_id"].max()) + 1
    with pytest.raises(TrafficScenarioError, match=rf"new_link: node {unknown}\b"):
        TrafficScenario(new_link=(known, unknown)).validate(net)
    TrafficScenario(new_link=(known, int(net.nodes["node_id"].iloc[1]))).validate(net)


def test_bus_lane_needs_its_corridor(net):
    with pytest.raises(TrafficScenarioError, match="bus_lane.*corridor_roads"):
        TrafficScenario(bus_lane=True).validate(net)


def test_scenario_json_round_trip_and_errors():
    scenario = TrafficScenario(
        closed_roads=("CAS-R002350",), lanes_open=1, closure_from_h=7, closure_to_h=12.5,
        demand_growth_pct=5, new_link=(117, 327), corridor_roads=("CAS-R000002",),
        corridor_green_share=0.6, emergency_route=(117, 408), emergency_hour=17.25, seed=3,
    )  # fmt: skip
    assert TrafficScenario.from_json(scenario.to_json()) == scenario
    assert TrafficScenario.from_json(TrafficScenario().to_json()) == TrafficScenario()
    assert TrafficScenario.from_json("{}").is_baseline
    with pytest.raises(TrafficScenarioError, match="closed_road"):
        TrafficScenario.from_json('{"closed_road": ["CAS-R002350"]}')
    with pytest.raises(TrafficScenarioError, match="not JSON"):
        TrafficScenario.from_json("closed_roads = CAS-R002350")
    with pytest.raises(TrafficScenarioError, match="JSON object"):
        TrafficScenario.from_json('["CAS-R002350"]')
    with pytest.raises(TrafficScenarioError, match="closed_roads must be a list"):
        TrafficScenario.from_json('{"closed_roads": "CAS-R002350"}')
    with pytest.raises(TrafficScenarioError, match="emergency_route"):
        TrafficScenario.from_json('{"emergency_route": [117, "x"]}')
