"""H3 x time cubes: exact against a plain pandas group-by, exact roll-ups, files, Dask parity."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from data.city.grid import parent_cells
from data.telemetry.cube import (
    CubeBuilder,
    CubeError,
    aggregate,
    load_cube,
    resample,
    roll_up,
    save_cube,
)
from data.telemetry.readings import Readings
from data.telemetry.sensors import VARIABLES, sensors_for
from data.telemetry.synthetic import Period, chunk_tasks, generate, make_chunk

START, END = "2026-11-23", "2026-11-24"


@pytest.fixture(scope="module")
def sensors(city_name):
    return sensors_for(city_name)


@pytest.fixture(scope="module")
def sample(sensors):
    return np.concatenate([sensors.of_kind(k)[:: max(1, len(sensors.of_kind(k)) // 2000)]
                           for k in ("lamp", "road", "water")])  # fmt: skip


@pytest.fixture(scope="module")
def readings(city_name, sample):
    return Readings.concat(list(generate(city_name, Period.of(START, END), sensors=sample)))


@pytest.fixture(scope="module")
def cube10(readings, sensors):
    return aggregate(readings, sensors, START, END, res=10, freq="15min")


def test_cube_matches_a_plain_groupby(readings, sensors, cube10):
    """Reference: h3 cell per reading (h3-py, one call per sensor), pandas group-by."""
    import h3

    table = readings.to_frame(sensors)
    present = set(table["sensor_id"].unique())
    cell_of = {
        sid: h3.str_to_int(h3.latlng_to_cell(lat, lon, 10))
        for sid, lon, lat in sensors.table[["sensor_id", "lon", "lat"]].itertuples(index=False)
        if sid in present
    }
    table["cell"] = table["sensor_id"].map(cell_of).astype(np.uint64)
    table["time"] = table["timestamp"].dt.tz_convert(None).dt.floor("15min")
    for name in ("power_w", "vehicles", "speed_kmh", "flow_m3h"):
        rows = table[(table["variable"] == name) & table["value"].notna()]
        how = VARIABLES[name].aggregation
        expected = rows.groupby(["time", "cell"])["value"].agg(how)
        got = cube10[name].to_series().dropna()
        got.index = got.index.set_names(["time", "cell"])
        pd.testing.assert_series_equal(
            got.sort_index(), expected.astype(float).sort_index(), check_names=False, rtol=1e-5
        )
        counts = rows.groupby(["time", "cell"]).size()
        assert int(cube10[f"{name}_count"].sum()) == counts.sum()


def test_cube_is_cf_style(cube10):
    assert cube10["power_w"].dims == ("time", "cell")
    assert cube10["power_w"].attrs["units"] == "W"
    assert cube10["speed_kmh"].attrs["units"] == "km h-1"
    assert "long_name" in cube10["vehicles"].attrs
    assert cube10["cell"].dtype == np.uint64 and cube10.attrs["h3_resolution"] == 10


@pytest.mark.parametrize("res", [7, 8, 9])
def test_roll_up_equals_aggregating_at_that_resolution(readings, sensors, cube10, res):
    direct = aggregate(readings, sensors, START, END, res=res)
    rolled = roll_up(cube10, res)
    np.testing.assert_array_equal(rolled["cell"], direct["cell"])
    assert set(parent_cells(cube10["cell"].to_numpy(), res)) == set(rolled["cell"].to_numpy())
    for name in VARIABLES:
        np.testing.assert_allclose(rolled[name], direct[name], rtol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(rolled[f"{name}_count"], direct[f"{name}_count"])


def test_means_roll_up_weighted_by_their_counts():
    """Two cells under one parent: 1 reading of 10 and 3 readings of 2 -> mean 4, not 6."""
    from data.telemetry.cube import _dataset

    cells = np.array([0x8A39AAB81B87FFF, 0x8A39AAB81B97FFF], np.uint64)  # same res-9 parent
    sums = np.array([[[10.0, 6.0]]])
    counts = np.array([[[1, 3]]])
    cube = _dataset(sums, counts, ["speed_kmh"], pd.to_datetime(["2026-11-23"]), cells, 10, "1D")
    parent = roll_up(cube, 9)
    assert parent.sizes["cell"] == 1
    assert float(parent["speed_kmh"][0, 0]) == pytest.approx(4.0)
    assert int(parent["speed_kmh_count"][0, 0]) == 4


def test_hourly_buckets_from_quarter_hours_are_exact(readings, sensors, cube10):
    hourly = resample(cube10, "1h")
    direct = aggregate(readings, sensors, START, END, res=10, freq="1h")
    for name in ("vehicles", "power_w", "pressure_bar"):
        np.testing.assert_allclose(hourly[name], direct[name], rtol=1e-9, equal_nan=True)


def test_chunked_adds_equal_one_add(readings, sensors, cube10):
    builder = CubeBuilder(sensors, START, END, res=10)
    for part in np.array_split(np.arange(len(readings)), 7):
        builder.add(Readings(*(getattr(readings, f)[part] for f in Readings.__annotations__)))
    xr.testing.assert_allclose(builder.dataset(), cube10)


def test_save_and_load_roundtrip(cube10, tmp_path):
    path = save_cube(cube10, tmp_path / "cube.nc")
    loaded = load_cube(path)
    xr.testing.assert_identical(loaded, cube10)
    assert [p.name for p in tmp_path.iterdir()] == ["cube.nc"]


def test_bad_requests_name_what_is_wrong(sensors, cube10, tmp_path):
    with pytest.raises(CubeError, match="resolution 11"):
        CubeBuilder(sensors, START, END, res=11)
    with pytest.raises(CubeError, match="unknown variable"):
        CubeBuilder(sensors, START, END, variables=["noise_db"])
    with pytest.raises(CubeError, match="roll a resolution-9 cube up to resolution 10"):
        roll_up(roll_up(cube10, 9), 10)
    broken = tmp_path / "broken.nc"
    broken.write_bytes(b"not netcdf")
    with pytest.raises(CubeError, match="broken.nc"):
        load_cube(broken)


def test_dask_local_cluster_gives_the_local_cube(city_name, sensors, sample):
    distributed = pytest.importorskip("distributed")
    from data.telemetry.cube_dask import aggregate_on_dask

    period = Period.of(START, END)
    tasks = chunk_tasks(city_name, period, sensors=sample)
    jobs = [(make_chunk, task) for task in tasks]
    local = aggregate((make_chunk(*t) for t in tasks), sensors, START, END, res=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster) as client:
            seen = []
            remote = aggregate_on_dask(
                client, city_name, jobs, START, END, res=9, progress=lambda d, t: seen.append(d)
            )
    assert seen and seen[-1] == min(len(jobs), 4)
    xr.testing.assert_allclose(remote, local, rtol=1e-9)
    for name in VARIABLES:
        np.testing.assert_array_equal(remote[f"{name}_count"], local[f"{name}_count"])


@pytest.mark.parametrize("repeats", [1, 20])
def test_readings_by_position_index_like_h3_per_point(repeats, monkeypatch):
    """Fixed meters (positions repeat) and probes (all distinct) give h3-py's cell per row."""
    import h3

    from data.telemetry.sensors import point_sensors

    rng = np.random.default_rng(7)
    distinct = 60_000 if repeats == 1 else 3_000
    lon = rng.uniform(-7.70, -7.45, distinct)
    lat = rng.uniform(33.50, 33.65, distinct)
    order = rng.permutation(np.repeat(np.arange(distinct), repeats))
    if repeats == 1:  # probes: the registry is the rows themselves, no dedup pass
        monkeypatch.setattr(pd, "factorize", lambda *a, **k: pytest.fail("dedup on probes"))
    registry, rows = point_sensors("test", "lamp", lon[order], lat[order])
    assert len(registry) == distinct  # one sensor per distinct position, whichever path
    cells = registry.table["cell"].to_numpy()[rows]
    expected = [
        h3.str_to_int(h3.latlng_to_cell(b, a, 10))
        for a, b in zip(lon[order], lat[order], strict=True)
    ]
    np.testing.assert_array_equal(cells, np.array(expected, np.uint64))


def test_threaded_indexing_matches_one_call(monkeypatch):
    import data.city.grid as sensors_module

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-8, -7, 50_000), rng.uniform(33, 34, 50_000)
    whole = sensors_module.cells_of(lon, lat, 9)
    monkeypatch.setattr(sensors_module, "THREADED_POINTS", 10_000)
    monkeypatch.setattr(sensors_module.os, "cpu_count", lambda: 4)
    np.testing.assert_array_equal(sensors_module.cells_of(lon, lat, 9), whole)
