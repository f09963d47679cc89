import dataclasses

import pytest
import xarray as xr

from data.errors import MadinaError
from data.store.scenarios import ScenarioStore
from simulation import kinds as scenario_kinds
from simulation.lighting.model import simulate
from simulation.lighting.plans import scenario_from_dict
from simulation.runs import execute, rerun, submit

CITY = "casablanca"


@pytest.fixture
def store(tmp_path):
    return ScenarioStore(tmp_path / "scenarios.sqlite")


def _submit(store, kind="lighting", params=None, name="plan"):
    params = (
        {"led_share_pct": 50, "retrofit_order": "random", "seed": 7} if params is None else params
    )
    return submit(store, kind=kind, params=params, city=CITY, name=name, author="planner")


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("lighting", {"led_share_pct": 140}, "led_share_pct must be within 0-100"),
        ("lighting", {"led_share": 40}, r"unknown scenario field\(s\) \['led_share'\]"),
        ("lighting", {"year": 1900}, "year must be a whole year"),
        ("lighting", [1, 2], "parameters must be an object"),
        ("outage", {"element_id": "CAS-F001", "start": 25}, "start must be within 0-23"),
        ("outage", {"start": 3}, "element_id is required"),
        ("traffic", {"closed_roads": ["not-a-road"]}, "closed_roads"),
        ("pipe_break", {"random_breaks": 2, "opening": 3}, "opening"),
        ("teleport", {}, "unknown scenario kind 'teleport'"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field_and_nothing_is_stored(
    store, kind, params, message
):
    with pytest.raises(MadinaError, match=message):
        _submit(store, kind, params)
    assert store.records() == []


def test_a_lighting_run_stores_its_year_and_kpis_that_agree(store, city):
    record = _submit(store)
    assert record.status == "queued" and record.seed == 7
    assert record.params["year"] == 2026 and record.params["led_share_pct"] == 50.0
    assert set(record.engine_versions) == {"madina-twin", "numpy"}
    seen = []
    done = execute(store, record.id, lambda fraction, message: seen.append(fraction))
    assert done.status == "done", done.error
    assert seen == sorted(seen) and seen[-1] == 0.95
    results = store.results(record.id)
    assert results.sizes["time"] == 365 and results["energy_kwh"].attrs["units"] == "kWh"
    # two routes to one number: the KPI, the stored cube, and the model run directly
    direct = simulate(
        city, scenario_from_dict({k: v for k, v in record.params.items() if k != "year"})
    )
    assert done.kpis["energy_kwh"] == pytest.approx(direct.kpis["energy_kwh"])
    assert float(results["energy_kwh"].sum()) == pytest.approx(done.kpis["energy_kwh"], rel=1e-4)
    assert float(results["energy_kwh_total"].sum()) == pytest.approx(
        done.kpis["energy_kwh"], rel=1e-4
    )
    assert 0 < done.kpis["energy_saving_pct"] < 50


def test_a_run_is_reproducible_from_its_record(store):
    first = execute(store, _submit(store).id)
    again = execute(store, rerun(store, first.id, author="auditor").id)
    assert again.params == first.params and again.seed == first.seed
    assert again.author == "auditor" and again.name == "plan (re-run)"
    assert again.kpis == first.kpis
    xr.testing.assert_identical(store.results(again.id), store.results(first.id))
    other_seed = execute(store, _submit(store, params={**first.params, "seed": 8}).id)
    assert other_seed.kpis["energy_kwh"] != first.kpis["energy_kwh"]


def test_an_outage_run_stores_its_quarter_hours(store):
    record = _submit(store, "outage", {"element_id": "CAS-F001", "start": 18, "duration_h": 4})
    done = execute(store, record.id)
    assert done.status == "done", done.error
    results = store.results(record.id)
    assert done.kpis["customers"] > 0
    peak = float(results["customers_off_total"].max())
    assert peak == pytest.approx(done.kpis["customers"], rel=0.01)
    assert results["customers_off"].dims == ("time", "cell")


def test_a_crashing_engine_is_recorded_as_failed_not_raised(store, monkeypatch):
    def explode(city, scenario, progress):
        progress(0.1, "starting")
        raise RuntimeError("engine fell over")

    kind = scenario_kinds.KINDS["lighting"]
    monkeypatch.setitem(scenario_kinds.KINDS, "lighting", dataclasses.replace(kind, run=explode))
    record = _submit(store)
    failed = execute(store, record.id)
    assert failed.status == "failed"
    assert failed.error.startswith("RuntimeError: engine fell over")
    assert failed.result_file is None and list(store.results_dir.iterdir()) == []


def test_a_cancelled_run_stops_at_its_next_step_and_keeps_nothing(store):
    record = _submit(store)

    def cancel_once_started(fraction, message):
        store.cancel(record.id)

    cancelled = execute(store, record.id, cancel_once_started)
    assert cancelled.status == "cancelled"
    assert cancelled.result_file is None and list(store.results_dir.iterdir()) == []


def test_a_run_cancelled_before_it_starts_is_not_started(store):
    record = _submit(store)
    store.cancel(record.id)
    told = []
    cancelled = execute(store, record.id, lambda fraction, message: told.append(message))
    assert cancelled.status == "cancelled" and cancelled.started_at is None
    assert told == [] and list(store.results_dir.iterdir()) == []


def test_every_kind_declares_units_for_its_kpis():
    for kind in scenario_kinds.KINDS.values():
        assert kind.kpis and all(k.unit for k in kind.kpis), kind.name
        assert len({k.key for k in kind.kpis}) == len(kind.kpis)
