"""Water what-ifs on the embedded network: the seed's yield, pressure management, bursts.

Each scenario is a full 24 h EPANET run of the whole network (~15 s): marked slow.
"""

import numpy as np
import pytest

from data.water.model import REQUIRED_PRESSURE_M
from data.water.network import load_water_network
from data.water.physics import NETWORK_YIELD
from simulation.water.hydraulics import baseline_day, run_pipe_break, run_pressure_management
from simulation.water.scenarios import (
    PipeBreakScenario,
    PressureScenario,
    WaterScenarioError,
    scenario_from_json,
)

SEED_YIELD_BEFORE, SEED_YIELD_AFTER = 0.723, 0.7616


@pytest.fixture(scope="module")
def net(city_name):
    return load_water_network(city_name)


@pytest.mark.slow
def test_baseline_day_serves_everyone_at_the_seed_yield(city_name, net):
    day = baseline_day(city_name)
    b = day.balance
    assert b["billed_m3"] / b["produced_m3"] == pytest.approx(NETWORK_YIELD, abs=0.004)
    people = net.junctions.set_index("junction_id").loc[day.pressure_m.columns, "population"]
    demand_nodes = (people > 0).to_numpy()
    # every customer at or above the service pressure at every hour
    assert day.pressure_m.to_numpy()[:, demand_nodes].min() >= REQUIRED_PRESSURE_M
    assert (day.delivered_m3h.sum() / day.requested_m3h.sum()).min() > 0.999
    # 110 L/person/day for the census population
    assert b["billed_m3"] == pytest.approx(people.sum() * 0.110, rel=0.01)


@pytest.mark.slow
def test_demand_modulated_pressure_raises_the_yield_as_in_casablanca(city_name):
    """The seed: yield 72.3 % -> 76.16 % with demand-modulated pressure. Our comparable
    setting: every DMA's PRVs hold 20 m (not 25) at the critical point and follow demand.
    Leakage ~ pressure^1 (FAVAD N1 = 1 for mixed materials; literature 0.5-1.5), so the gain
    is uncertain by about a third: we accept the seed's 76.16 % +- 1.3 points (a third of its
    +3.9 point gain)."""
    result = run_pressure_management(city_name, PressureScenario(critical_pressure_m=20.0))
    k = result.kpis
    assert k.baseline_yield_share == pytest.approx(SEED_YIELD_BEFORE, abs=0.004)
    assert abs(k.yield_share - SEED_YIELD_AFTER) <= 0.013
    assert k.people_without_water == 0  # lower pressure, still above the service level
    base = baseline_day(city_name)
    assert k.leaked_m3 < 0.9 * base.balance["leaked_m3"]
    assert k.billed_m3 == pytest.approx(base.balance["billed_m3"], rel=0.005)
    # the night is where pressure drops most (demand-modulated outlets)
    change = result.cube["pressure_change_m"].mean("cell").to_numpy()
    assert change.max() < 0 and change[3] < change[8]


@pytest.mark.slow
def test_a_burst_is_isolated_and_its_segment_goes_dry_until_repaired(city_name, net):
    pipes = net.pipes
    pipe = pipes.loc[
        (pipes["role"] == "distribution") & (pipes["road_class"] == "tertiary"), "link_id"
    ].iloc[100]
    scenario = PipeBreakScenario(pipes=(pipe,), start=6, isolation_h=2, repair_h=6)
    result = run_pipe_break(city_name, scenario)
    k = result.kpis
    segment = pipes.set_index("link_id").at[pipe, "segment"]
    cut = net.junctions[net.junctions["segment"] == segment]
    assert pipe in result.isolated_pipes
    assert k.people_without_water == pytest.approx(cut["population"].sum(), abs=1)
    assert k.buildings_without_water >= cut["n_buildings"].sum()
    assert k.volume_lost_m3 > 0
    # what bursts out was produced and lost: the day's yield drops a little
    assert k.yield_share < k.baseline_yield_share
    base = baseline_day(city_name).balance
    assert k.produced_m3 - base["produced_m3"] == pytest.approx(k.volume_lost_m3, rel=0.2)
    people = result.cube["people_without_water"].sum("cell").to_numpy()
    assert people[:6].max() == 0 and people[8:14].min() >= cut["population"].sum() - 1
    assert people[14:].max() == 0  # repaired at 14:00
    # before the burst, nothing differs from the baseline day
    assert np.abs(result.cube["pressure_change_m"].to_numpy()[:6]).max() < 0.01


def test_scenarios_name_the_bad_field(net):
    with pytest.raises(WaterScenarioError, match="unknown pipe 'nope'"):
        PipeBreakScenario(pipes=("nope",)).validate(net)
    with pytest.raises(WaterScenarioError, match="start = 25"):
        PipeBreakScenario(random_breaks=1, start=25).validate(net)
    with pytest.raises(WaterScenarioError, match="random_breaks = 50"):
        PipeBreakScenario(random_breaks=50).validate(net)
    with pytest.raises(WaterScenarioError, match="nothing breaks"):
        PipeBreakScenario().validate(net)
    closed = net.pipes.loc[net.pipes["status"] == "closed", "link_id"].iloc[0]
    with pytest.raises(WaterScenarioError, match="closed boundary valve"):
        PipeBreakScenario(pipes=(closed,)).validate(net)
    with pytest.raises(WaterScenarioError, match="critical_pressure_m = 5"):
        PressureScenario(critical_pressure_m=5).validate(net)
    with pytest.raises(WaterScenarioError, match="unknown DMA 'DMA-x'"):
        PressureScenario(dmas=("DMA-x",)).validate(net)
    with pytest.raises(WaterScenarioError, match="day = 'monday'"):
        PressureScenario(day="monday").validate(net)
    # forged JSON: wrong types are named, not crashed on
    with pytest.raises(WaterScenarioError, match="start = '6' is not a number"):
        scenario_from_json('{"kind": "pipe_break", "random_breaks": 1, "start": "6"}').validate(net)
    with pytest.raises(WaterScenarioError, match="isolation_h = 1.5 must be a whole number"):
        PipeBreakScenario(random_breaks=1, isolation_h=1.5).validate(net)
    with pytest.raises(WaterScenarioError, match="modulated = 'yes'"):
        scenario_from_json('{"kind": "pressure", "modulated": "yes"}').validate(net)
    with pytest.raises(WaterScenarioError, match="unknown field"):
        scenario_from_json('{"kind": "pressure", "target": 3}')
    with pytest.raises(WaterScenarioError, match="kind = 'flood'"):
        scenario_from_json('{"kind": "flood"}')


def test_scenarios_round_trip_through_json():
    for scenario in (
        PipeBreakScenario(pipes=("CAS-R000001", "CAS-R000002"), start=7, repair_h=5),
        PipeBreakScenario(random_breaks=3, seed=9),
        PressureScenario(dmas=("DMA-8739aab9bffffff",), critical_pressure_m=21.5, modulated=False),
    ):
        assert scenario_from_json(scenario.to_json()) == scenario


def test_random_breaks_are_reproducible_open_pipes(net):
    a = PipeBreakScenario(random_breaks=5, seed=3).chosen_pipes(net)
    b = PipeBreakScenario(random_breaks=5, seed=3).chosen_pipes(net)
    assert a == b and len(set(a)) == 5
    chosen = net.pipes.set_index("link_id").loc[list(a)]
    assert (chosen["status"] == "open").all() and (chosen["role"] != "inlet").all()
