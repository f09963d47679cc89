"""Lighting plans as data and their time-lapse frames: round trips, refusals, totals kept."""

import json

import numpy as np
import pytest

from simulation.lighting.model import ESTONIAN_SCHEDULE, LightingScenario, ScenarioError, simulate
from simulation.lighting.plans import (
    PRESETS,
    format_schedule,
    parse_schedule,
    playback_query,
    playback_request,
    scenario_from_dict,
    scenario_to_dict,
)
from simulation.lighting.playback import playback


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_round_trips_through_json_and_validates(key, city):
    scenario = PRESETS[key]
    scenario.validate(city)
    assert scenario_from_dict(json.loads(json.dumps(scenario_to_dict(scenario)))) == scenario


def test_schedule_text_round_trips_and_tiles_the_day():
    text = format_schedule(ESTONIAN_SCHEDULE)
    assert text == "05-23 100%; 23-01 50%; 01-05 20%"
    assert parse_schedule(text) == ESTONIAN_SCHEDULE
    assert parse_schedule("05-22:30 100\n22:30-05 30%")[1].start_h == 22.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("05-23 100%; dusk 50%", "entry 2 'dusk 50%'"),
        ("5 to 23 at 100", "entry 1"),
    ],
)
def test_malformed_schedule_text_is_refused_quoting_the_entry(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "JSON object"),
        ({"led_share": 50}, "unknown scenario field"),
        ({"led_share_pct": "all"}, "led_share_pct must be a number"),
        ({"led_share_pct": True}, "led_share_pct must be a number"),
        ({"districts": "D01"}, "districts must be a list"),
        ({"dimming": [[0, 24]]}, r"dimming\[0\]"),
        ({"peak_hours": [17]}, "peak_hours"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"name": "x" * 500}, "name must be a text"),
    ],
)
def test_forged_scenario_data_is_refused_naming_the_field(data, field):
    with pytest.raises(ScenarioError, match=field):
        scenario_from_dict(data)


def test_playback_query_round_trips_and_bad_requests_are_named():
    scenario = PRESETS["led-motion"]
    from urllib.parse import parse_qsl

    query = dict(parse_qsl(playback_query(scenario, "day", "2026-12-21")))
    assert playback_request(query) == (scenario, "day", "2026-12-21")
    assert playback_request({**query, "mode": "year"})[2] is None
    with pytest.raises(ScenarioError, match="not valid JSON"):
        playback_request({"scenario": "{led", "mode": "year"})
    with pytest.raises(ScenarioError, match="day is required"):
        playback_request({"scenario": query["scenario"], "mode": "day"})


@pytest.fixture(scope="module")
def runs(city):
    return simulate(city, PRESETS["baseline"]), simulate(city, PRESETS["led-motion"])


def test_a_day_plays_by_hour_and_keeps_the_totals(runs, city_name):
    baseline, plan = runs
    frames = playback(city_name, plan, baseline, mode="day", day="2026-12-21")
    assert frames.sizes["frame"] == 24 and str(frames["label"][20].item()).endswith("20:00")
    # local 20:00 on 21 Dec is UTC 19:00: the frame is that hour of the result, cell by cell
    hour = plan.energy.sel(time="2026-12-21T19:00").to_numpy()
    np.testing.assert_allclose(frames["energy_kwh"][20].to_numpy(), hour, rtol=1e-6)
    assert float(frames["load_kw"][20]) == pytest.approx(hour.sum(), rel=1e-5)
    saved = frames["baseline_energy_total_kwh"] - frames["energy_total_kwh"]
    np.testing.assert_allclose(frames["saved_kwh"].sum("cell"), saved, rtol=1e-4)
    # noon is daylight: nothing lit, nothing drawn; 03:00 is deep night, dimmed to 20%
    assert float(frames["lit"][12]) == 0 and float(frames["energy_total_kwh"][12]) == 0
    level = frames["level"].sel(group="scheduled")
    assert float(level[3]) == pytest.approx(0.2) and float(level[20]) == pytest.approx(1.0)
    motion = frames["level"].sel(group="motion:residential")
    assert 0.2 <= float(motion[3]) < float(motion[20]) <= 1.0  # quiet streets idle at night
    assert int(frames["lamps"].sum()) == len(plan.lamp_group)


def test_a_year_plays_by_week_and_sums_to_the_year(runs, city_name):
    baseline, plan = runs
    frames = playback(city_name, plan, baseline, mode="year")
    # week 1 starts at local 01:00 (the year's first UTC hour); week 53 is 31 December
    assert frames.sizes["frame"] == 53 and list(frames["hours"][[0, 1, -1]]) == [167, 168, 24]
    # every UTC hour but the last (local 00:00 on 1 January of the next year) is in a week
    last_hour = float(plan.energy.isel(time=-1).sum())
    total = float(frames["energy_total_kwh"].sum())
    assert total == pytest.approx(plan.kpis["energy_kwh"] - last_hour, rel=1e-5)
    winter, summer = float(frames["load_kw"][50]), float(frames["load_kw"][25])
    assert winter > summer  # longer nights, more energy per hour of the week


@pytest.mark.parametrize(
    ("mode", "day", "message"),
    [
        ("month", None, "playback mode 'month' unknown"),
        ("day", "2031-01-01", "outside the simulated"),
        ("day", "21/12/2026", "not a date"),
    ],
)
def test_bad_playback_requests_are_named(runs, city_name, mode, day, message):
    baseline, plan = runs
    with pytest.raises(ScenarioError, match=message):
        playback(city_name, plan, baseline, mode=mode, day=day)


def test_lamp_power_is_the_factorised_result_per_lamp(runs, city):
    _, plan = runs
    hours = plan.energy["time"].to_numpy()[[8, 19 + 24 * 354]]  # a morning, 21 Dec 20:00 local
    power = plan.lamp_power_w(hours)
    assert power.dims == ("time", "lamp") and power.shape == (2, len(city.lamps))
    cells = np.bincount(
        plan.lamp_cell, weights=power[1].to_numpy(), minlength=plan.energy.sizes["cell"]
    )
    np.testing.assert_allclose(cells / 1000, plan.energy.sel(time=hours[1]), rtol=1e-4)
    assert LightingScenario().name == "baseline"
