"""Public-lighting what-if: LED retrofit, dimming schedules, switching, and what they cost.

The model, per hour t of a year and per light point i::

    on(t)      share of hour t that is dark (ambient switching: astral sunset/sunrise for the
               date, as the telemetry) or inside the clock window (clock switching)
    level_i(t) dimming level of a managed (LED) lamp: the schedule's level at local hour t;
               1 for unmanaged (HPS, MH) lamps
    P_i        power drawn at full level: rated W x ballast/driver overhead; a retrofitted lamp
               draws P_i x EFFICACY[old] / led_efficacy x LED_OPTICAL_GAIN
    E(t, c)    = on(t) x sum over lamps i in cell c of P_i x level_i(t)        [Wh in hour t]

Because on(t) and level(t) are the same for every lamp of a group, E is an outer product of a
(time) vector and per-cell wattage sums: a year of 140,000 lamps never builds a lamps x hours
array. KPIs: energy, cost (peak/off-peak tariff), CO2, peak load, investment, simple payback,
and lamp-hours below the level the road class requires (a plan must not save by going dark).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from data.city import City
from data.city.clock import local_hours
from data.city.grid import cells_of
from data.errors import ScenarioError
from data.lighting.physics import dark, drawn_power_w
from data.traffic.physics import LANE_CAPACITY_VEH_H, PEAK_VC, traffic_profile

# System efficacy on the road (lm/W incl. ballast/driver): HPS 85, metal halide 75 (typical
# catalogue values); LED 150 by default (current street luminaires, a scenario parameter).
EFFICACY_LM_W = {"HPS": 85.0, "MH": 75.0, "LED": 150.0}
# LED optics put more of their flux on the road than a sodium lamp's reflector (assumption:
# 20% less flux needed for the same road luminance).
LED_OPTICAL_GAIN = 0.8
# Minimum dimming level by road class (assumption after EN 13201 class steps: a main road may
# drop two classes at night, about 50% of its flux; residential streets one, about 20-30%).
REQUIRED_LEVEL = {"motorway": 0.5, "trunk": 0.5, "primary": 0.5, "secondary": 0.3,
                  "tertiary": 0.3, "residential": 0.2}  # fmt: skip
DEFAULT_REQUIRED_LEVEL = 0.2
# Motion-adaptive lamps go back to full (scheduled) level on a detection and hold it this long
# (assumption; products offer 30 s - 5 min). With Poisson arrivals at q vehicles/h a lamp is
# raised a share 1 - exp(-q x hold / 3600) of the time.
MOTION_HOLD_S = 60.0
RETROFIT_ORDERS = ("oldest", "random")
SWITCHING = ("ambient", "clock")


@dataclass(frozen=True)
class DimmingStep:
    """From local hour ``start_h`` to ``end_h`` (may wrap past midnight) at ``level`` (0-1)."""

    start_h: float
    end_h: float
    level: float


FULL_NIGHT = (DimmingStep(0, 24, 1.0),)
# The Estonian pilot (Linnamae, 2014): full light at dusk, 50% after 23:00, 20% 01:00-05:00.
ESTONIAN_SCHEDULE = (
    DimmingStep(5, 23, 1.0),
    DimmingStep(23, 1, 0.5),
    DimmingStep(1, 5, 0.2),
)


@dataclass(frozen=True)
class LightingScenario:
    """What-if parameters; `validate` names the first bad field."""

    name: str = "baseline"
    led_share_pct: float = 0.0  # of the non-LED lamps in scope, retrofitted to LED
    retrofit_order: str = "oldest"
    districts: tuple[str, ...] = ()  # scope of the retrofit (empty: whole city)
    road_classes: tuple[str, ...] = ()
    led_efficacy_lm_w: float = EFFICACY_LM_W["LED"]
    dimming: tuple[DimmingStep, ...] = FULL_NIGHT  # applies to LED (managed) lamps
    # Motion-adaptive dimming: managed lamps on these road classes idle at this level and rise
    # to the scheduled level when traffic passes (assumed traffic: the telemetry's profile).
    motion_road_classes: tuple[str, ...] = ()
    motion_idle_level: float = 0.3
    switching: str = "ambient"
    clock_on_h: float = 18.0
    clock_off_h: float = 7.0
    # Tariff (assumption, MAD/kWh excl. VAT, Moroccan public-lighting order of magnitude):
    tariff_mad_kwh: float = 1.10
    peak_tariff_mad_kwh: float = 1.50
    peak_hours: tuple[float, float] = (17.0, 22.0)  # winter evening peak, local time
    co2_kg_kwh: float = 0.72  # Moroccan grid emission factor (assumption, coal-heavy mix)
    led_unit_cost_mad: float = 3_000.0  # luminaire + installation (assumption)
    maintenance_mad_lamp_year: float = 150.0  # conventional lamps; LED half (Estonian pilot)
    seed: int = 0

    def validate(self, city: City) -> None:
        """Raise `ScenarioError` naming the field if a parameter is out of range."""
        if not 0 <= self.led_share_pct <= 100:
            raise ScenarioError(f"led_share_pct must be within 0-100, got {self.led_share_pct}")
        if self.retrofit_order not in RETROFIT_ORDERS:
            raise ScenarioError(
                f"retrofit_order {self.retrofit_order!r} unknown; use {', '.join(RETROFIT_ORDERS)}"
            )
        unknown = sorted(set(self.districts) - set(city.districts["district_id"]))
        if unknown:
            raise ScenarioError(f"districts: unknown district(s) {unknown}")
        for name in ("road_classes", "motion_road_classes"):
            unknown = sorted(set(getattr(self, name)) - set(city.roads["road_class"]))
            if unknown:
                raise ScenarioError(f"{name}: unknown road class(es) {unknown}")
        if not 0 <= self.motion_idle_level <= 1:
            raise ScenarioError(
                f"motion_idle_level must be within 0-1, got {self.motion_idle_level}"
            )
        if self.switching not in SWITCHING:
            raise ScenarioError(f"switching {self.switching!r} unknown; use ambient or clock")
        for name in ("led_efficacy_lm_w",):
            if getattr(self, name) <= 0:
                raise ScenarioError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("tariff_mad_kwh", "peak_tariff_mad_kwh", "co2_kg_kwh", "led_unit_cost_mad",
                     "maintenance_mad_lamp_year"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ScenarioError(f"{name} must not be negative, got {getattr(self, name)}")
        schedule_levels(self.dimming)


def schedule_levels(steps: tuple[DimmingStep, ...]) -> np.ndarray:
    """Level for each local minute of the day; the steps must tile 24 h, no gap, no overlap."""
    if not steps:
        raise ScenarioError("dimming: the schedule is empty")
    minutes = np.zeros(24 * 60, np.int64)
    levels = np.zeros(24 * 60)
    for k, step in enumerate(steps):
        if not 0 <= step.level <= 1:
            raise ScenarioError(f"dimming[{k}].level must be within 0-1, got {step.level}")
        if not (0 <= step.start_h <= 24 and 0 <= step.end_h <= 24):
            raise ScenarioError(f"dimming[{k}] hours must be within 0-24")
        start, end = round(step.start_h * 60) % 1440, round(step.end_h * 60) % 1440
        span = np.arange(start, end if end > start else end + 1440) % 1440
        if step.start_h == 0 and step.end_h == 24:
            span = np.arange(1440)
        minutes[span] += 1
        levels[span] = step.level
    if (minutes > 1).any():
        at = np.flatnonzero(minutes > 1)[0]
        raise ScenarioError(f"dimming: steps overlap at {at // 60:02d}:{at % 60:02d}")
    if (minutes == 0).any():
        at = np.flatnonzero(minutes == 0)[0]
        raise ScenarioError(f"dimming: no step covers {at // 60:02d}:{at % 60:02d}")
    return levels


@dataclass(frozen=True)
class LightingResult:
    """One scenario over a year: hourly energy per H3 cell, the (time, lamp) levels, the KPIs.

    The (time, lamp) result is held factorised: every lamp belongs to one group (unmanaged,
    scheduled, or motion-adaptive on one road class) and all lamps of a group share one level
    per hour, so ``on x levels[:, lamp_group] x watts`` is the (time, lamp) power without a
    140,000 x 8,760 array (`lamp_power_w` builds it for chosen hours).
    """

    scenario: LightingScenario
    energy: xr.DataArray  # (time, cell) kWh; coord tariff_mad_kwh (time)
    on: xr.DataArray  # (time,) share of the hour the lamps are lit
    levels: xr.DataArray  # (time, group) dimming level of each lamp group (0-1)
    lamp_group: np.ndarray  # (lamp,) index into levels.group, city.lamps order
    lamp_cell: np.ndarray  # (lamp,) index into energy.cell
    watts: np.ndarray  # (lamp,) W drawn at full level after the retrofit
    retrofit: np.ndarray  # (lamp,) bool, turned into LED by the scenario
    kpis: dict[str, float]

    @property
    def cost(self) -> xr.DataArray:
        """(time, cell) cost in MAD: energy x the hour's tariff."""
        cost = self.energy * self.energy["tariff_mad_kwh"]
        return cost.assign_attrs(units="MAD", long_name="public-lighting energy cost")

    def lamp_power_w(self, times: np.ndarray) -> xr.DataArray:
        """(time, lamp) mean power in W over the hours ``times`` (a small selection)."""
        at = self.on.sel(time=times)
        levels = self.levels.sel(time=times).to_numpy()[:, self.lamp_group]
        power = at.to_numpy()[:, None] * levels * self.watts[None, :]
        return xr.DataArray(
            power.astype(np.float32),
            dims=("time", "lamp"),
            coords={"time": at["time"].to_numpy()},
            attrs={"units": "W", "long_name": "mean power drawn in the hour"},
        )


def _hours(year: int) -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="1h", inclusive="left")


def _on_share(city: City, scenario: LightingScenario, hours: pd.DatetimeIndex, local_h):
    """Share of each hour the lamps are on (4 samples an hour)."""
    samples = (hours.to_numpy()[:, None] + np.arange(4) * np.timedelta64(15, "m")).ravel()
    samples = samples + np.timedelta64(7, "m") + np.timedelta64(30, "s")  # mid-quarter
    if scenario.switching == "ambient":
        lon, lat = city.center
        return dark(lat, lon, samples).reshape(-1, 4).mean(axis=1)
    on, off = scenario.clock_on_h, scenario.clock_off_h
    local = (local_h[:, None] + (np.arange(4) * 0.25 + 0.125)).ravel() % 24
    inside = (local >= on) | (local < off) if on > off else (local >= on) & (local < off)
    return inside.reshape(-1, 4).mean(axis=1)


def lamp_road_classes(city: City) -> np.ndarray:
    """Road class of each lamp's road ("" if its road is unknown)."""
    classes = city.lamps["road_id"].map(city.roads.set_index("road_id")["road_class"])
    return classes.fillna("").to_numpy()


def retrofit_mask(city: City, scenario: LightingScenario) -> np.ndarray:
    """Which lamps the scenario turns into LED (in scope, not LED yet, by the chosen order)."""
    lamps = city.lamps
    scope = lamps["technology"].to_numpy() != "LED"
    if scenario.districts:
        scope &= lamps["district_id"].isin(scenario.districts).to_numpy()
    if scenario.road_classes:
        scope &= np.isin(lamp_road_classes(city), scenario.road_classes)
    candidates = np.flatnonzero(scope)
    if scenario.retrofit_order == "oldest":
        order = np.argsort(lamps["install_year"].to_numpy()[candidates], kind="stable")
    else:
        order = np.random.default_rng(scenario.seed).permutation(len(candidates))
    chosen = candidates[order[: round(len(candidates) * scenario.led_share_pct / 100)]]
    mask = np.zeros(len(lamps), bool)
    mask[chosen] = True
    return mask


def simulate(
    city: City, scenario: LightingScenario, year: int = 2026, res: int = 9
) -> LightingResult:
    """Run ``scenario`` over ``year`` (hourly); returns a `LightingResult`."""
    scenario.validate(city)
    lamps = city.lamps
    tech = lamps["technology"].to_numpy()
    full_w = drawn_power_w(lamps)
    retrofit = retrofit_mask(city, scenario)
    old_efficacy = pd.Series(tech).map(EFFICACY_LM_W).fillna(EFFICACY_LM_W["HPS"]).to_numpy()
    led_w = full_w * old_efficacy / scenario.led_efficacy_lm_w * LED_OPTICAL_GAIN
    watts = np.where(retrofit, led_w, full_w)
    managed = retrofit | (tech == "LED")

    roads = city.roads.set_index("road_id")
    classes = lamp_road_classes(city)
    motion = managed & np.isin(classes, scenario.motion_road_classes)
    motion_classes = [str(c) for c in np.unique(classes[motion])]
    groups = ["unmanaged", "scheduled", *(f"motion:{c}" for c in motion_classes)]
    lamp_group = np.where(managed, 1, 0).astype(np.uint8)
    for k, road_class in enumerate(motion_classes):
        lamp_group[motion & (classes == road_class)] = 2 + k

    hours = _hours(year)
    local_h, weekend = local_hours(city.name, hours)
    on = _on_share(city, scenario, hours, local_h)
    per_minute = schedule_levels(scenario.dimming)
    level = per_minute[((local_h * 60).astype(int) + 30) % 1440]  # level at mid-hour
    levels = [np.ones_like(level), level]
    for road_class in motion_classes:
        lanes = roads.loc[roads["road_class"] == road_class, "lanes"].astype(float).mean()
        volume = (
            (lanes if np.isfinite(lanes) else 1.0)
            * LANE_CAPACITY_VEH_H.get(road_class, 300)
            * PEAK_VC.get(road_class, 0.3)
            * traffic_profile(local_h, weekend)
        )
        raised = 1 - np.exp(-volume * MOTION_HOLD_S / 3600)
        idle = np.minimum(scenario.motion_idle_level, level)
        levels.append(idle + (level - idle) * raised)
    levels = np.column_stack(levels)  # (time, group)

    cells_all = cells_of(lamps.geometry.x.to_numpy(), lamps.geometry.y.to_numpy(), res)
    cells, cell_of = np.unique(cells_all, return_inverse=True)
    group_cell_w = np.zeros((len(groups), len(cells)))  # W at full level, per group and cell
    np.add.at(group_cell_w, (lamp_group, cell_of), watts)
    energy_kwh = on[:, None] * (levels @ group_cell_w) / 1000
    load_kw = energy_kwh.sum(axis=1)

    peak = (local_h >= scenario.peak_hours[0]) & (local_h < scenario.peak_hours[1])
    tariff = np.where(peak, scenario.peak_tariff_mad_kwh, scenario.tariff_mad_kwh)
    required = pd.Series(classes).map(REQUIRED_LEVEL).fillna(DEFAULT_REQUIRED_LEVEL).to_numpy()
    # lamp-hours under the road class's level: managed lamps, while on, scheduled below their
    # minimum (a motion-adaptive lamp idles low only while nobody is there: not counted)
    under = sum(
        float((on * (level < req)).sum()) * int(((required == req) & managed).sum())
        for req in np.unique(required)
    )
    maintenance = scenario.maintenance_mad_lamp_year * np.where(managed, 0.5, 1.0).sum()
    time_coords = {"time": hours.to_numpy()}
    energy = xr.DataArray(
        energy_kwh.astype(np.float32),
        dims=("time", "cell"),
        coords={**time_coords, "cell": cells, "tariff_mad_kwh": ("time", tariff)},
        attrs={
            "units": "kWh",
            "long_name": "public-lighting energy in the hour",
            "h3_resolution": res,
        },  # fmt: skip
        name="lighting_energy",
    )
    kpis = {
        "energy_kwh": float(load_kw.sum()),
        "cost_mad": float((load_kw * tariff).sum()),
        "co2_t": float(load_kw.sum() * scenario.co2_kg_kwh / 1000),
        "peak_kw": float(load_kw.max()),
        "lamps_retrofitted": int(retrofit.sum()),
        "investment_mad": float(retrofit.sum() * scenario.led_unit_cost_mad),
        "maintenance_mad": float(maintenance),
        "lit_hours": float(on.sum()),
        "underlit_lamp_hours": under,
    }
    return LightingResult(
        scenario=scenario,
        energy=energy,
        on=xr.DataArray(on, dims="time", coords=time_coords, attrs={"units": "1"}),
        levels=xr.DataArray(
            levels, dims=("time", "group"), coords={**time_coords, "group": groups}
        ),
        lamp_group=lamp_group,
        lamp_cell=cell_of,
        watts=watts,
        retrofit=retrofit,
        kpis=kpis,
    )


def compare(result: LightingResult, baseline: LightingResult) -> dict[str, float]:
    """Savings against ``baseline``: energy %, cost and CO2 saved, simple payback (years)."""
    base, new = baseline.kpis, result.kpis
    saved_mad = (base["cost_mad"] - new["cost_mad"]) + (
        base["maintenance_mad"] - new["maintenance_mad"]
    )
    return {
        "energy_saving_pct": 100 * (1 - new["energy_kwh"] / base["energy_kwh"]),
        "cost_saved_mad": base["cost_mad"] - new["cost_mad"],
        "co2_saved_t": base["co2_t"] - new["co2_t"],
        "payback_years": new["investment_mad"] / saved_mad if saved_mad > 0 else float("inf"),
    }
