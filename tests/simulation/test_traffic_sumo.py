"""Eclipse SUMO as the alternative traffic engine: schema, plausible hours, works, errors.

Two mesoscopic runs of the 03:00 night hour (~10 s each: the ordinary day and a closure).
Skipped without the SUMO binaries (``pip install eclipse-sumo``).
"""

from __future__ import annotations

import numpy as np
import pytest

from data.traffic.demand import demand
from data.traffic.network import traffic_network
from simulation.traffic.scenarios import DEFAULT_DAY, TrafficScenario
from simulation.traffic.sumo_engine import SumoError, _call, _write_trips, run_sumo, sumo_binary
from simulation.traffic.uxsim_engine import hour_times

pytestmark = pytest.mark.slow

try:
    for _binary in ("sumo", "netconvert"):
        sumo_binary(_binary)
except SumoError as err:
    pytest.skip(str(err), allow_module_level=True)

NIGHT = 3
# SUMO drivers keep a speed factor (mean 1, sd 0.1): a link's mean speed may exceed its limit.
SPEED_TOLERANCE = 1.25


@pytest.fixture(scope="module")
def net(city):
    return traffic_network(city)


@pytest.fixture(scope="module")
def night(city):
    return run_sumo(city, TrafficScenario(), hours=1, start_h=NIGHT)


def test_night_hour_has_the_uxsim_links_schema(city, net, night):
    assert set(night.data_vars) == {"flow_veh_h", "speed_kmh", "density_veh_km"}
    assert night["flow_veh_h"].dims == ("time", "link")
    assert list(night["link"].to_numpy()) == list(net.links["link"])
    np.testing.assert_array_equal(night["time"], hour_times(city, DEFAULT_DAY)[NIGHT : NIGHT + 1])
    np.testing.assert_array_equal(night["segment"], net.links["segment"])
    np.testing.assert_allclose(night["length_m"], net.links["length_m"])
    np.testing.assert_allclose(night["free_speed_kmh"], net.links["speed_kmh"])


def test_night_hour_flows_and_speeds_are_plausible(night):
    flow = night["flow_veh_h"].to_numpy()[0]
    speed = night["speed_kmh"].to_numpy()[0]
    free = night["free_speed_kmh"].to_numpy()
    assert (flow > 0).mean() > 0.8  # most links carry traffic even at night
    assert flow.max() < 2000  # a night hour is far below capacity
    assert (speed > 0).all() and (speed <= free * SPEED_TOLERANCE).all()
    assert np.median(speed / free) > 0.5  # mostly free-flowing (signals cost some)
    assert (night["density_veh_km"].to_numpy() >= 0).all()
    assert night.attrs["inserted"] >= 0.99 * night.attrs["vehicles"] > 1000


def test_closed_road_carries_nothing_during_its_closure(city, net, night):
    busiest = int(np.argmax(night["flow_veh_h"].to_numpy()[0]))
    segment = int(night["segment"].to_numpy()[busiest])
    road = net.segments["road_ids"].iloc[segment][0]
    works = TrafficScenario(closed_roads=(road,), closure_from_h=NIGHT, closure_to_h=NIGHT + 1)
    out = run_sumo(city, works, hours=2, start_h=NIGHT)
    on = out["segment"].to_numpy() == segment
    flow = out["flow_veh_h"].to_numpy()[:, on]
    assert (flow[0] == 0).all()  # closed: no vehicle enters or departs on it
    assert (flow[1] > 0).all()  # reopened at 04:00
    others = out["flow_veh_h"].to_numpy()[0, ~on].sum()
    assert others > 0.9 * night["flow_veh_h"].to_numpy()[0, ~on].sum()  # traffic goes around


def test_demand_growth_scales_the_vehicles(tmp_path, city, net):
    def vehicles(pct: float) -> int:
        scenario = TrafficScenario(demand_growth_pct=pct)
        return _write_trips(tmp_path / "trips.xml", net, city, scenario, 7, 9, 1.0)

    expected = demand(city).trips[7:9].sum()
    assert 0.95 * expected < vehicles(0) < 1.01 * expected  # minus trips within one junction
    assert vehicles(50) == pytest.approx(1.5 * vehicles(0), rel=0.02)


def test_unsupported_scenario_fields_are_named(city, net):
    a, b = (int(n) for n in net.nodes["node_id"].iloc[:2])
    with pytest.raises(NotImplementedError, match="new_link"):
        run_sumo(city, TrafficScenario(new_link=(a, b)), hours=1, start_h=NIGHT)


def test_failing_binary_names_the_command_and_its_stderr(tmp_path):
    missing = tmp_path / "missing.net.xml"
    with pytest.raises(SumoError, match="missing.net.xml") as err:
        _call([sumo_binary("sumo"), "--net-file", missing], 60)
    assert "sumo" in str(err.value) and "stderr" in str(err.value)
