"""Outages and load flow on the embedded city's distribution network (no mocks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.power.network import load_power_network
from simulation.power.load_flow import load_flow
from simulation.power.outage import OutageScenario, PowerScenarioError, run_outage

STEP = np.timedelta64(15, "m")


@pytest.fixture(scope="module")
def net(city):
    return load_power_network(city)


@pytest.fixture(scope="module")
def tied_feeder(net):
    """A feeder with ties whose outage gets some, not all, customers back-fed."""
    ties = net.lines[net.lines["kind"] == "tie"]
    feeder = net.transformers.set_index("transformer_id")["feeder_id"]
    counts = pd.concat([ties["from_id"].map(feeder), ties["to_id"].map(feeder)]).value_counts()
    return counts.index[0]


def _step(result, when: np.datetime64) -> int:
    return int(np.flatnonzero(result.cube["time"].to_numpy() == when)[0])


def test_transformer_outage_darkens_exactly_its_buildings_and_lamps(city, net):
    tr = net.transformers[net.transformers["n_cabinets"] > 0].iloc[0]
    result = run_outage(city, OutageScenario(tr["transformer_id"], start=20, duration_h=2))
    buildings = net.connections[net.connections["transformer_id"] == tr["transformer_id"]]
    cabinets = net.cabinets.loc[net.cabinets["transformer_id"] == tr["transformer_id"]]
    lamps = city.lamps["cabinet_id"].isin(cabinets["cabinet_id"]).sum()
    k = result.kpis
    assert (k.buildings, k.customers, k.cabinets, k.lamps) == (
        len(buildings), buildings["customers"].sum(), len(cabinets), lamps,
    )  # fmt: skip
    assert k.customers_backfed == 0 and k.backfeed_at is None  # no tie reaches one transformer
    at = result.cube.sum("cell").isel(time=_step(result, k.restored_at - STEP))
    assert at["buildings_off"] == len(buildings) and at["lamps_off"] == lamps
    assert k.customer_minutes_lost == buildings["customers"].sum() * 120


def test_feeder_outage_at_night_darkens_all_its_lamps(city, net):
    feeder = city.lamps["feeder_id"].value_counts().index[0]
    result = run_outage(city, OutageScenario(feeder, start=22, duration_h=1, backfeed=False))
    n_lamps = int((city.lamps["feeder_id"] == feeder).sum())
    assert result.kpis.lamps == n_lamps
    night = result.cube["lamps_off"].sum("cell").to_numpy()
    start = _step(result, np.datetime64("2026-11-23T21:00"))  # 22:00 local = 21:00 UTC
    assert np.allclose(night[start : start + 4], n_lamps)
    assert night[start - 1] == 0 and night[start + 4] == 0
    assert result.kpis.lamp_hours_dark == pytest.approx(n_lamps * 1.0)
    on_feeder = net.transformers["feeder_id"] == feeder
    assert result.kpis.customers == net.transformers.loc[on_feeder, "n_customers"].sum()


def test_lamps_do_not_count_by_day(city):
    feeder = city.lamps["feeder_id"].iloc[0]
    result = run_outage(city, OutageScenario(feeder, start=12, duration_h=2))
    assert result.kpis.lamps > 0 and result.kpis.lamp_hours_dark == 0
    assert float(result.cube["lamps_off"].sum()) == 0


def test_backfeed_restores_customers_at_the_switching_step(city, tied_feeder):
    scenario = OutageScenario(tied_feeder, start=2, duration_h=6, switching_min=45)
    result = run_outage(city, scenario)
    k = result.kpis
    assert 0 < k.customers_backfed <= k.customers
    t0 = np.datetime64("2026-11-23T01:00")  # 02:00 local
    assert k.backfeed_at == t0 + np.timedelta64(45, "m")
    off = result.cube["customers_off"].sum("cell").to_numpy()
    i = _step(result, t0)
    assert off[i - 1] == 0
    assert np.allclose(off[i : i + 3], k.customers)  # 01:00-01:45
    assert off[i + 3] == pytest.approx(k.customers - k.customers_backfed)  # from 01:45
    assert _step(result, k.restored_at) == i + 24 and off[i + 24] == 0
    fed = result.transformers[result.transformers["tie_id"] != ""]
    assert fed["customers"].sum() == k.customers_backfed
    assert (fed["backfeed_feeder"] != tied_feeder).all()
    expected = (k.customers - k.customers_backfed) * 360 + k.customers_backfed * 45
    assert k.customer_minutes_lost == pytest.approx(expected)


def test_no_backfeed_when_disabled(city, tied_feeder):
    result = run_outage(city, OutageScenario(tied_feeder, start=2, backfeed=False))
    assert result.kpis.customers_backfed == 0 and result.kpis.backfeed_at is None
    off = result.cube["customers_off"].sum("cell").to_numpy()
    i = _step(result, np.datetime64("2026-11-23T01:00"))
    assert np.allclose(off[i : i + 16], result.kpis.customers) and off[i + 16] == 0


def test_tight_headroom_backfeeds_less(city, tied_feeder):
    full = run_outage(city, OutageScenario(tied_feeder, start=19, tie_headroom=1.2))
    tight = run_outage(city, OutageScenario(tied_feeder, start=19, tie_headroom=0.5))
    assert tight.kpis.customers_backfed <= full.kpis.customers_backfed


def test_substation_outage_hits_all_its_feeders(city, net):
    sid = net.substations["substation_id"].iloc[0]
    result = run_outage(city, OutageScenario(sid, duration_h=30))
    feeders = set(net.transformers.loc[net.transformers["substation_id"] == sid, "feeder_id"])
    assert set(result.transformers["feeder_id"]) == feeders
    assert result.cube.sizes["time"] == 2 * 96  # runs past midnight: a second day
    assert not set(result.transformers["backfeed_feeder"]) & feeders - {""}
    ens = float(result.cube["load_lost_kw"].sum()) * 0.25
    assert result.kpis.energy_not_supplied_kwh == pytest.approx(ens, rel=1e-5)


def test_cube_conventions(city):
    result = run_outage(city, OutageScenario("CAS-F020"), res=8)
    cube = result.cube
    assert cube["time"].dtype == np.dtype("datetime64[ns]") and cube.sizes["time"] == 96
    assert cube["time"].values[0] == np.datetime64("2026-11-22T23:00")  # local midnight, UTC
    assert cube["cell"].dtype == np.uint64
    for name in ("customers_off", "buildings_off", "lamps_off", "load_lost_kw"):
        assert cube[name].dims == ("time", "cell")
        assert {"units", "long_name"} <= set(cube[name].attrs)
        assert cube[name].attrs["h3_resolution"] == 8


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"element_id": "CAS-X999"}, "element_id"),
        ({"duration_h": -1}, "duration_h"),
        ({"duration_h": 100}, "duration_h"),
        ({"start": 25}, "start"),
        ({"start": 18.5}, "start"),
        ({"switching_min": -5}, "switching_min"),
        ({"tie_headroom": 0}, "tie_headroom"),
        ({"day": "23/11/2026"}, "day"),
        ({"backfeed": "yes"}, "backfeed"),
    ],
)
def test_bad_inputs_name_the_field(city, change, field):
    scenario = OutageScenario(**{"element_id": "CAS-F020", **change})
    with pytest.raises(PowerScenarioError, match=field):
        run_outage(city, scenario)


def test_unknown_element_says_how_to_find_valid_ids(net):
    with pytest.raises(PowerScenarioError, match="load_power_network"):
        OutageScenario("nope").validate(net)


def test_scenario_json_round_trip():
    scenario = OutageScenario("CAS-S01", "2026-07-01", 3, 0.1 + 0.2, 12.5, False, 0.9)
    assert OutageScenario.from_json(scenario.to_json()) == scenario
    with pytest.raises(PowerScenarioError, match="colour"):
        OutageScenario.from_json('{"element_id": "CAS-S01", "colour": 1}')


def test_load_flow_converges_within_limits(city, net):
    result = load_flow(city, hour=20)
    assert result.converged
    assert result.buses["vm_pu"].between(0.9, 1.1).all()
    assert len(result.buses) == len(net.transformers)
    assert result.lines["loading_pct"].notna().all() and result.lines["loading_pct"].max() > 10
    assert set(result.feeders.index) == set(net.transformers["feeder_id"])
    night = load_flow(city, hour=4)
    assert night.feeders["load_kw"].sum() < result.feeders["load_kw"].sum()
    assert night.lines["loading_pct"].max() < result.lines["loading_pct"].max()


def test_load_flow_of_chosen_feeders(city):
    result = load_flow(city, hour=20, feeders=("CAS-F020",))
    assert list(result.feeders.index) == ["CAS-F020"]
    assert set(result.lines["feeder_id"]) == {"CAS-F020"}
    with pytest.raises(PowerScenarioError, match="feeders"):
        load_flow(city, feeders=("CAS-F999",))
    with pytest.raises(PowerScenarioError, match="hour"):
        load_flow(city, hour=24)
