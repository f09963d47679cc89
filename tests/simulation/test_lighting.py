"""Lighting what-if: seed figures as sanity checks, validation by field, reproducible."""

import pytest

from simulation.lighting.model import (
    ESTONIAN_SCHEDULE,
    DimmingStep,
    LightingScenario,
    ScenarioError,
    compare,
    simulate,
)


@pytest.fixture(scope="module")
def baseline(city):
    return simulate(city, LightingScenario())


def test_baseline_is_the_city_as_metered(baseline, city):
    """~140k lamps of ~100 W drawn ~4,100 h a year: 60-70 GWh (the telemetry gives
    189 MWh on a November day, 69 GWh a year at that rate, nights being longer then)."""
    k = baseline.kpis
    assert 55e6 < k["energy_kwh"] < 70e6
    assert 3_900 < k["lit_hours"] < 4_400
    assert 12_000 < k["peak_kw"] < 17_000  # telemetry peak: 14.2 MW
    assert k["underlit_lamp_hours"] == 0 and k["investment_mad"] == 0
    assert baseline.energy.dims == ("time", "cell") and baseline.energy.sizes["time"] == 8760
    assert float(baseline.energy.sum()) == pytest.approx(k["energy_kwh"], rel=1e-4)


def test_full_led_with_management_saves_70_percent_or_more(city, baseline):
    """Seed: 'LED renovation with step-by-step remote management: 70% or more'. LED alone
    gives 1 - 85/150 x 0.8 = 55% on an HPS lamp; the Estonian schedule keeps ~70% of a
    night's flux, so a renovated lamp saves ~68%. City-wide the figure is diluted by the
    17% of lamps already LED (they gain only the dimming): accept 65-85%, i.e. "near 70%"."""
    plan = simulate(city, LightingScenario(led_share_pct=100, dimming=ESTONIAN_SCHEDULE))
    saving = compare(plan, baseline)
    assert 65 <= saving["energy_saving_pct"] <= 85
    assert plan.kpis["lamps_retrofitted"] == int((city.lamps["technology"] != "LED").sum())
    assert 0 < saving["payback_years"] < 15  # LED lifetime ~12 years at 4,100 h
    assert saving["co2_saved_t"] > 0 and plan.kpis["peak_kw"] < baseline.kpis["peak_kw"]


def test_late_night_20_percent_lands_in_the_estonian_range(city, baseline):
    """Estonia: LED at 20% in late-night hours, 65-85% saved; here 20% from 23:00 to 05:00."""
    late = (DimmingStep(5, 23, 1.0), DimmingStep(23, 5, 0.2))
    saving = compare(simulate(city, LightingScenario(led_share_pct=100, dimming=late)), baseline)
    assert 65 <= saving["energy_saving_pct"] <= 85


def test_dimming_below_the_road_class_level_is_reported(city, baseline):
    dark_plan = (DimmingStep(5, 23, 1.0), DimmingStep(23, 5, 0.1))
    result = simulate(city, LightingScenario(led_share_pct=100, dimming=dark_plan))
    assert result.kpis["underlit_lamp_hours"] > 1e6  # every managed lamp, six hours a night
    safe = simulate(city, LightingScenario(led_share_pct=100, dimming=ESTONIAN_SCHEDULE))
    assert safe.kpis["underlit_lamp_hours"] < result.kpis["underlit_lamp_hours"]


def test_retrofit_scope_and_order(city):
    older = simulate(city, LightingScenario(led_share_pct=10, retrofit_order="oldest"))
    district = city.districts["district_id"].iloc[0]
    local = simulate(city, LightingScenario(led_share_pct=100, districts=(district,)))
    in_district = (city.lamps["district_id"] == district) & (city.lamps["technology"] != "LED")
    assert local.kpis["lamps_retrofitted"] == int(in_district.sum())
    assert older.kpis["lamps_retrofitted"] == round(0.1 * (city.lamps["technology"] != "LED").sum())
    a = simulate(city, LightingScenario(led_share_pct=30, retrofit_order="random", seed=4))
    b = simulate(city, LightingScenario(led_share_pct=30, retrofit_order="random", seed=4))
    c = simulate(city, LightingScenario(led_share_pct=30, retrofit_order="random", seed=5))
    assert a.kpis == b.kpis and a.kpis["energy_kwh"] != c.kpis["energy_kwh"]


def test_clock_switching_burns_more_than_ambient_in_summer(city, baseline):
    clock = simulate(city, LightingScenario(switching="clock", clock_on_h=18, clock_off_h=7))
    june = slice("2026-06-01", "2026-06-30")
    assert float(clock.energy.sel(time=june).sum()) > float(baseline.energy.sel(time=june).sum())


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"led_share_pct": 120}, "led_share_pct"),
        ({"led_share_pct": -1}, "led_share_pct"),
        ({"districts": ("Atlantis",)}, "districts"),
        ({"road_classes": ("canal",)}, "road_classes"),
        ({"motion_road_classes": ("canal",)}, "motion_road_classes"),
        ({"motion_idle_level": 1.2}, "motion_idle_level"),
        ({"tariff_mad_kwh": -0.5}, "tariff_mad_kwh"),
        ({"led_unit_cost_mad": -1}, "led_unit_cost_mad"),
        ({"retrofit_order": "newest"}, "retrofit_order"),
        ({"dimming": (DimmingStep(0, 12, 1.0), DimmingStep(11, 24, 0.5))}, "overlap at 11:00"),
        ({"dimming": (DimmingStep(0, 12, 1.0), DimmingStep(13, 24, 0.5))}, "no step covers 12:00"),
        ({"dimming": (DimmingStep(0, 24, 1.5),)}, "dimming[0].level"),
    ],
)
def test_bad_scenarios_are_refused_naming_the_field(city, params, field):
    with pytest.raises(ScenarioError, match=field.replace("[", r"\[").replace("]", r"\]")):
        simulate(city, LightingScenario(**params))


def test_motion_adaptive_dimming_saves_most_where_traffic_is_light(city):
    """Residential streets at night see few vehicles: their lamps idle most of the time;
    a primary road stays near its scheduled level. Both save, residential far more."""
    base = LightingScenario(led_share_pct=100)
    plain = simulate(city, base).kpis["energy_kwh"]
    quiet = simulate(
        city, LightingScenario(led_share_pct=100, motion_road_classes=("residential",))
    )
    busy = simulate(city, LightingScenario(led_share_pct=100, motion_road_classes=("primary",)))
    lamps_on = city.lamps["road_id"].map(city.roads.set_index("road_id")["road_class"])
    per_lamp = {
        cls: (plain - run.kpis["energy_kwh"]) / (lamps_on == cls).sum()
        for cls, run in (("residential", quiet), ("primary", busy))
    }
    assert per_lamp["residential"] > 2 * per_lamp["primary"] > 0
    idle_only = simulate(
        city,
        LightingScenario(
            led_share_pct=100, motion_road_classes=("residential",), motion_idle_level=1.0
        ),  # fmt: skip
    )
    assert idle_only.kpis["energy_kwh"] == pytest.approx(plain)  # idling at 100% saves nothing
