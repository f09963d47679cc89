import json

import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from data.store.scenarios import ScenarioStore
from simulation.compare import CompareError, difference, kpi_deltas, kpi_table
from simulation.exports import brief_html, cells_geojson, results_csv
from simulation.runs import execute, submit

CASABLANCA = (33.5731, -7.5898)


def _cube(values, cells, aggregation="sum") -> xr.Dataset:
    times = pd.date_range("2026-11-22T23:00", periods=len(values), freq="h")
    data = np.asarray(values, dtype=np.float32)
    return xr.Dataset(
        {
            "people_without_water": (
                ("time", "cell"),
                data,
                {"units": "people", "cell_aggregation": aggregation},
            )
        },
        coords={"time": times, "cell": np.asarray(cells, dtype=np.uint64)},
    )


def test_difference_is_taken_on_the_union_of_cells_and_centred_on_zero():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(*CASABLANCA, 9), 1))[:3]
    a_cell, b_cell, shared = cells
    scenario = _cube([[5, 7], [0, 1]], [a_cell, shared])
    reference = _cube([[2, 7], [3, 0]], [b_cell, shared])
    diff = difference(scenario, reference, "people_without_water")
    assert diff.attrs["units"] == "people"
    got = diff.to_pandas()
    assert got[a_cell].tolist() == [5, 0]  # only in the scenario
    assert got[b_cell].tolist() == [-2, -3]  # only in the reference
    assert got[shared].tolist() == [0, 1]
    with pytest.raises(CompareError, match="no variable 'delay'; known: people_without_water"):
        difference(scenario, reference, "delay")
    with pytest.raises(CompareError, match="cover different times"):
        difference(scenario, reference.isel(time=[0]), "people_without_water")


def test_csv_and_geojson_carry_units_local_time_and_the_run_totals():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(*CASABLANCA, 9), 1))[:2]
    run = _cube([[5, 0], [1, 0]], cells)
    text = results_csv(run, "casablanca")
    rows = text.strip().splitlines()
    assert rows[0] == "local_time (UTC+1),h3_cell,people_without_water (people)"
    assert rows[1:] == [  # the untouched cell is left out; 23:00 UTC is local midnight
        f"2026-11-23T00:00,{h3.int_to_str(int(cells[0]))},5",
        f"2026-11-23T01:00,{h3.int_to_str(int(cells[0]))},1",
    ]
    collection = cells_geojson(run)
    assert collection["units"] == {"people_without_water": "people"}
    first = collection["features"][0]
    assert first["properties"] == {
        "h3_cell": h3.int_to_str(int(cells[0])),
        "people_without_water": 6.0,
        "people_without_water_peak": 5.0,
    }
    ring = first["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    lon, lat = ring[0]
    assert -8 < lon < -7 and 33 < lat < 34  # lon/lat order (GeoJSON), not lat/lon
    mean_run = _cube([[4, 0], [2, 0]], cells, aggregation="mean")
    assert cells_geojson(mean_run)["features"][0]["properties"]["people_without_water"] == 3.0
    json.dumps(collection, allow_nan=False)


def test_kpi_deltas_and_a_brief_of_two_lighting_plans(tmp_path):
    store = ScenarioStore(tmp_path / "s.sqlite")

    def run(name, params):
        record = submit(
            store, kind="lighting", params=params, city="casablanca", name=name, author="p"
        )
        return execute(store, record.id)

    led = run("LED everywhere", {"led_share_pct": 100})
    dimmed = run(
        "LED + dimming", {"led_share_pct": 100, "dimming": [[5, 23, 1], [23, 1, 0.5], [1, 5, 0.2]]}
    )
    deltas = {d.kpi.key: d for d in kpi_deltas(dimmed, led)}
    energy = deltas["energy_kwh"]
    assert energy.change == pytest.approx(dimmed.kpis["energy_kwh"] - led.kpis["energy_kwh"])
    assert energy.change < 0 and -50 < energy.change_pct < -20
    assert deltas["investment_mad"].change == 0
    rows = dict((k.key, v) for k, v in kpi_table([led, dimmed]))
    assert rows["energy_kwh"] == [led.kpis["energy_kwh"], dimmed.kpis["energy_kwh"]]

    page = brief_html(dimmed, store.results(dimmed.id), led, store.results(led.id))
    assert "<h1>LED + dimming</h1>" in page
    assert (
        "Change in public-lighting energy in the day (kWh): LED + dimming − LED everywhere" in page
    )
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page  # opens offline
    change = f"{energy.change_pct:+,.2f}"
    assert change in page
    single = brief_html(led, store.results(led.id))
    assert "Change" not in single and "Energy (kWh/yr)" in single

    outage = execute(
        store,
        submit(
            store, kind="outage", params={"element_id": "CAS-F001"}, city="casablanca",
            name="feeder", author="p",
        ).id,
    )  # fmt: skip
    with pytest.raises(CompareError, match="deltas compare runs of one kind"):
        kpi_deltas(outage, led)
    table = dict((k.key, v) for k, v in kpi_table([led, outage]))
    assert table["customers"][0] is None and table["customers"][1] > 0


def test_each_kpi_is_written_in_its_own_format_in_the_brief_and_the_library(tmp_path):
    from pages.scenario_compare import comparison
    from simulation.kinds import KINDS

    for kind in KINDS.values():  # every format a kind declares is one Python can write
        for kpi in kind.kpis:
            assert kpi.text(-1234.5678, signed=True).startswith("-1,23")
    store = ScenarioStore(tmp_path / "s.sqlite")
    led = execute(
        store,
        submit(store, kind="lighting", params={"led_share_pct": 100}, city="casablanca",
               name="LED everywhere", author="p").id,
    )  # fmt: skip
    payback = led.kpis["payback_years"]
    assert 0 < payback < 100  # one decimal (its format), not the two of the default rule
    written = f"{payback:,.1f}"
    assert f"<td>{written}</td>" in brief_html(led, store.results(led.id))
    table = comparison([led])
    row = next(
        tr for tr in table.children[0].children[1].children
        if getattr(tr, "data-kpi", None) == "payback_years"
    )  # fmt: skip
    assert [cell.children for cell in row.children][1:] == [written]
