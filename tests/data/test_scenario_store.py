import math
import os
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from data.store.scenarios import ScenarioStore, ScenarioStoreError


def _add(store: ScenarioStore, name: str = "LED everywhere"):
    return store.add(
        kind="lighting",
        name=name,
        city="casablanca",
        params={"led_share_pct": 100.0},
        seed=0,
        author="planner",
        engine_versions={"madina-twin": "0.1.0"},
    )


def _results() -> xr.Dataset:
    times = pd.date_range("2026-01-01", periods=3, freq="D")
    cells = np.array([617700169958293503, 617700169958555647], dtype=np.uint64)
    energy = np.arange(6, dtype=np.float32).reshape(3, 2)
    return xr.Dataset(
        {"energy_kwh": (("time", "cell"), energy, {"units": "kWh"})},
        coords={"time": times, "cell": cells},
    )


def test_records_survive_a_restart_with_their_results(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    first = _add(store, "first")
    second = _add(store, "second")
    store.start(first.id)
    store.report(first.id, 0.5, "halfway")
    assert store.get(first.id).progress == 0.5
    store.finish(first.id, _results(), {"energy_kwh": 15.0, "payback_years": math.inf}, 1.25)

    reopened = ScenarioStore(tmp_path / "s.sqlite")  # a restarted app opens the same file
    assert [r.id for r in reopened.records()] == [second.id, first.id]
    done = reopened.get(first.id)
    assert (done.status, done.runtime_s, done.params) == ("done", 1.25, {"led_share_pct": 100.0})
    assert done.kpis == {"energy_kwh": 15.0, "payback_years": None}  # inf is not JSON
    assert done.engine_versions == {"madina-twin": "0.1.0"}
    loaded = reopened.results(first.id)
    xr.testing.assert_identical(loaded, _results())
    assert loaded["energy_kwh"].attrs["units"] == "kWh"
    assert reopened.get(second.id).status == "queued"


def test_a_failed_results_write_leaves_no_file_and_the_record_running(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    record = _add(store)
    store.start(record.id)
    bad = _results().assign(note=(("time",), np.array([{"a": 1}, {}, {}], dtype=object)))
    with pytest.raises(Exception):  # noqa: B017 - netCDF4 cannot store Python dicts
        store.finish(record.id, bad, {"energy_kwh": 1.0}, 1.0)
    assert store.get(record.id).status == "running"
    assert store.get(record.id).result_file is None
    assert list(store.results_dir.iterdir()) == []
    with pytest.raises(ScenarioStoreError, match="has no results: it is running"):
        store.results(record.id)


def test_status_changes_are_checked(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")
    record = _add(store)
    with pytest.raises(ScenarioStoreError, match="is queued, not running"):
        store.finish(record.id, _results(), {}, 1.0)
    with pytest.raises(ScenarioStoreError, match="no scenario 'nope'"):
        store.get("nope")
    assert store.cancel(record.id)
    assert store.get(record.id).status == "cancelled"
    assert not store.cancel(record.id)
    with pytest.raises(ScenarioStoreError, match="is cancelled"):
        store.start(record.id)
    with pytest.raises(ScenarioStoreError, match="name: a scenario needs a name"):
        _add(store, "  ")
    assert len(store.records()) == 1


def test_a_cancel_racing_a_start_is_never_overwritten(tmp_path):
    """Whichever wins, a cancel that reports success leaves the run cancelled."""
    store = ScenarioStore(tmp_path / "s.sqlite")
    records = [_add(store, f"run {i}") for i in range(40)]
    outcomes, unexpected = {}, []

    def cancel_all():
        for record in records:
            outcomes[record.id] = store.cancel(record.id)

    def start_all():
        for record in records:
            try:
                store.start(record.id)
            except ScenarioStoreError as err:
                if "is cancelled" not in str(err):
                    unexpected.append(err)

    threads = [threading.Thread(target=cancel_all), threading.Thread(target=start_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    for record in records:
        assert outcomes[record.id], "a queued or running run can always be cancelled"
        assert store.get(record.id).status == "cancelled"


def test_a_run_whose_process_died_reads_as_interrupted(tmp_path, monkeypatch):
    store = ScenarioStore(tmp_path / "s.sqlite")
    record = _add(store)
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    monkeypatch.setattr(os, "getpid", lambda: int(child.stdout))
    store.start(record.id)
    monkeypatch.undo()
    assert store.get(record.id).status == "interrupted"
    alive = _add(store, "alive")
    store.start(alive.id)
    assert store.get(alive.id).status == "running"


def test_the_database_location_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MADINA_SCENARIO_DB", str(tmp_path / "elsewhere" / "twin.sqlite"))
    store = ScenarioStore()
    assert store.path == tmp_path / "elsewhere" / "twin.sqlite"
    assert store.path.is_file() and store.results_dir == tmp_path / "elsewhere" / "twin-results"
