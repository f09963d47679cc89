"""Electricity what-if: who goes dark when a feeder, transformer or substation trips.

Works on the stored network (`data.power.network`); never builds or writes it. The MV load
flow is `simulation.power.load_flow`.

Outage model. The tripped element de-energises everything downstream in the radial trees: a
transformer its own buildings and cabinets; a feeder all its transformers; a substation all its
feeders. After ``switching_min`` an operator may close normally-open ties: a live neighbouring
feeder picks up dead transformers from the tie's end outwards (sections isolated at the ring
main units of the MV/LV substations) while its load stays within its rating x
``tie_headroom`` over the whole remaining outage (rule below). Everything else comes back after
``duration_h``. Lamps count as dark only while photocells would hold them on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import heapq
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import data.city
from data.city import City
from data.city.clock import local_midnight, to_local
from data.city.grid import cells_of
from data.errors import PowerScenarioError
from data.lighting.physics import dark, drawn_power_w
from data.power.network import ADMD_KW, PowerNetwork, load_power_network

STEP = pd.Timedelta(minutes=15)
DEFAULT_DAY = "2026-11-23"  # the project's telemetry day (a Monday)
MAX_DURATION_H = 72.0
MAX_TIE_HEADROOM = 1.2  # assumption: 20 kV cables take 120% for a few hours in emergency
# Assumption: daily shape of urban residential demand in Morocco (ONEE load curve: night
# trough ~1/3 of peak near 04:00, midday plateau, evening peak 19-22 h from lighting and
# cooking), as a share of the after-diversity peak `ADMD_KW`, at each local hour (linear
# between hours).
RESIDENTIAL_PROFILE = np.array([
    0.45, 0.38, 0.34, 0.32, 0.32, 0.35, 0.45, 0.55, 0.58, 0.58, 0.58, 0.60,
    0.65, 0.68, 0.62, 0.58, 0.58, 0.65, 0.80, 0.95, 1.00, 0.97, 0.85, 0.65,
])  # fmt: skip


def residential_share(local_hour: np.ndarray) -> np.ndarray:
    """Share of the evening peak drawn at each local hour (float, 0-24, periodic)."""
    hour = np.asarray(local_hour, float) % 24
    return np.interp(hour, np.arange(25), np.append(RESIDENTIAL_PROFILE, RESIDENTIAL_PROFILE[0]))


@dataclass(frozen=True)
class OutageScenario:
    """A trip of one element; `validate` names the first bad field.

    Back-feed capacity rule: a neighbouring feeder may take dead transformers through a tie
    while, at every step until restoration, its own load plus the picked-up load stays within
    ``tie_headroom`` x its rating (the thermal rating of its head section, see
    `PowerNetwork.feeders`). Transformers are picked nearest-first along the dead tree from the
    tie's end; one that does not fit blocks the sections behind it.
    """

    element_id: str  # a substation_id, feeder_id or transformer_id
    day: str = DEFAULT_DAY  # local date of the outage, ISO
    start: int = 18  # local hour the element trips, 0-23
    duration_h: float = 4.0  # restoration (repair) time, 0-72 h
    switching_min: float = 45.0  # time to close a tie and back-feed
    backfeed: bool = True
    tie_headroom: float = 1.0  # share of the neighbour's rating usable, 0-1.2

    def kind(self, net: PowerNetwork) -> str:
        """'substation', 'feeder' or 'transformer' (raises if ``element_id`` is unknown)."""
        self.validate(net)
        return _element_kind(net, self.element_id)

    def validate(self, net: PowerNetwork) -> None:
        """Raise `PowerScenarioError` naming the field if a parameter is out of range."""
        if not isinstance(self.element_id, str) or not _element_kind(net, self.element_id):
            s, f, t = (
                net.substations["substation_id"].iloc[0],
                net.transformers["feeder_id"].min(),
                net.transformers["transformer_id"].iloc[0],
            )
            raise PowerScenarioError(
                f"element_id {self.element_id!r} is not a substation, feeder or transformer of "
                f"{net.city}; valid ids are the substation_id of power_substations.parquet "
                f"(e.g. {s}), the feeder_id of cabinets or transformers (e.g. {f}) and the "
                f"transformer_id of power_transformers.parquet (e.g. {t}); list them with "
                "data.power.network.load_power_network(city)"
            )
        try:
            dt.date.fromisoformat(self.day)
        except (TypeError, ValueError) as err:
            raise PowerScenarioError(f"day must be an ISO date, got {self.day!r}") from err
        if isinstance(self.start, bool) or not isinstance(self.start, int | np.integer):
            raise PowerScenarioError(f"start must be a whole local hour, got {self.start!r}")
        if not 0 <= self.start <= 23:
            raise PowerScenarioError(f"start must be within 0-23 (local hour), got {self.start}")
        _in_range("duration_h", self.duration_h, 0, MAX_DURATION_H, low_open=True)
        _in_range("switching_min", self.switching_min, 0, MAX_DURATION_H * 60)
        _in_range("tie_headroom", self.tie_headroom, 0, MAX_TIE_HEADROOM, low_open=True)
        if not isinstance(self.backfeed, bool):
            raise PowerScenarioError(f"backfeed must be true or false, got {self.backfeed!r}")

    def to_json(self) -> str:
        """JSON text of the scenario (`from_json` gives it back exactly)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> OutageScenario:
        """A scenario from JSON text; unknown fields raise `PowerScenarioError` naming them."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise PowerScenarioError(f"scenario is not valid JSON: {err}") from err
        if not isinstance(data, dict):
            raise PowerScenarioError("a scenario must be a JSON object")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise PowerScenarioError(f"unknown scenario field(s) {unknown}")
        if "element_id" not in data:
            raise PowerScenarioError("element_id is required")
        return cls(**data)


def _in_range(name: str, value, low: float, high: float, *, low_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (low_open and value == low):
        bound = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
        raise PowerScenarioError(f"{name} must be {bound}, got {value!r}")


def _element_kind(net: PowerNetwork, element_id: str) -> str:
    if (net.substations["substation_id"] == element_id).any():
        return "substation"
    if element_id in net.feeders.index:
        return "feeder"
    if (net.transformers["transformer_id"] == element_id).any():
        return "transformer"
    return ""


@dataclass(frozen=True)
class OutageKpis:
    """Headline figures of one outage (times UTC, naive datetime64)."""

    customers: int  # customers (dwellings) that lose supply
    buildings: int
    lamps: int  # light points on de-energised cabinets (dark if it is night)
    cabinets: int
    transformers: int
    customer_minutes_lost: float  # sum of customers x minutes off: the SAIDI numerator
    saidi_min: float  # contribution to SAIDI: customer-minutes / all customers of the city
    energy_not_supplied_kwh: float
    lamp_hours_dark: float  # lamp-hours off while the lamps should have been lit
    customers_backfed: int  # restored through ties before the repair
    backfeed_at: np.datetime64 | None
    restored_at: np.datetime64


@dataclass(frozen=True)
class OutageResult:
    """Outcome of `run_outage`: the (time, cell) cube, KPIs and each dead transformer's fate.

    ``transformers``: transformer_id, feeder_id, customers, off_from, off_until (UTC), tie_id
    and backfeed_feeder ("" unless back-fed).
    """

    scenario: OutageScenario
    kind: str  # "substation", "feeder" or "transformer"
    cube: xr.Dataset = field(repr=False)
    kpis: OutageKpis
    transformers: pd.DataFrame = field(repr=False)


@functools.lru_cache(maxsize=8)
def _where(name: str, bundle_dir: str, res: int) -> dict[str, np.ndarray]:
    """Per building and per lamp: its transformer (row in net.transformers) and H3 cell."""
    default = Path(bundle_dir) == data.city.bundle_dir(name)  # the process's cached bundle
    city = data.city.load_city(name, bundle_dir=None if default else Path(bundle_dir))
    net = load_power_network(city)
    tr_row = pd.Index(net.transformers["transformer_id"])
    conn = net.connections.set_index("building_id").reindex(city.buildings["building_id"])
    centroid = city.buildings.geometry.to_crs(city.crs_metric).centroid.to_crs(4326)
    cab_tr = net.cabinets.set_index("cabinet_id")["transformer_id"]
    lamps = city.lamps
    return {
        "b_tr": tr_row.get_indexer(conn["transformer_id"]),
        "b_customers": conn["customers"].to_numpy(np.int64),
        "b_cell": cells_of(centroid.x.to_numpy(), centroid.y.to_numpy(), res),
        "l_tr": tr_row.get_indexer(lamps["cabinet_id"].map(cab_tr)),
        "l_kw": drawn_power_w(lamps) / 1000,
        "l_cell": cells_of(lamps.geometry.x.to_numpy(), lamps.geometry.y.to_numpy(), res),
        "c_tr": tr_row.get_indexer(net.cabinets["transformer_id"]),
    }


def local_midnight_utc(city: City, day: str) -> pd.Timestamp:
    """The UTC instant (naive) of local midnight starting ``day`` (ISO date) in ``city``."""
    return local_midnight(city, day)


def _backfeed(net, dead, window_load, picked_load, headroom):
    """Transformers (rows) picked up through ties: {row: (tie_id, neighbour feeder)}.

    ``window_load(feeder)`` is the neighbour's own load over the back-feed window (kW per
    step); ``picked_load[row]`` a dead transformer's load per step; a neighbour may carry
    ``headroom`` x its rating.
    """
    tr, lines, feeders = net.transformers, net.lines, net.feeders
    row_of = pd.Series(np.arange(len(tr)), index=tr["transformer_id"])
    ties = lines[lines["kind"] == "tie"]
    a = row_of[ties["from_id"]].to_numpy()
    b = row_of[ties["to_id"]].to_numpy()
    entries = []  # (tie_id, dead entry row, live row)
    for tie_id, ra, rb in zip(ties["line_id"], a, b, strict=True):
        if dead[ra] != dead[rb]:
            entries.append((tie_id, ra, rb) if dead[ra] else (tie_id, rb, ra))
    if not entries:
        return {}
    mv = lines[(lines["kind"] == "mv") & lines["from_id"].isin(row_of.index)]
    u, v = row_of[mv["from_id"]].to_numpy(), row_of[mv["to_id"]].to_numpy()
    keep = dead[u] & dead[v]
    adjacency: dict[int, list[tuple[int, float]]] = {}
    for x, y, length in zip(u[keep], v[keep], mv["length_m"].to_numpy()[keep], strict=True):
        adjacency.setdefault(x, []).append((y, length))
        adjacency.setdefault(y, []).append((x, length))

    feeder_of = tr["feeder_id"].to_numpy()
    spare = {}
    for _, _, live in entries:
        f = feeder_of[live]
        if f not in spare:
            spare[f] = feeders.loc[f, "rating_kw"] * headroom - window_load(f)
    entries.sort(key=lambda e: (-float(spare[feeder_of[e[2]]].min()), e[0]))
    picked: dict[int, tuple[str, str]] = {}
    for tie_id, entry, live in entries:
        f = feeder_of[live]
        queue, seen = [(0.0, int(entry))], {int(entry)}
        while queue:
            dist, row = heapq.heappop(queue)
            if row in picked or (picked_load[row] > spare[f]).any():
                continue
            spare[f] = spare[f] - picked_load[row]
            picked[row] = (tie_id, f)
            for nxt, length in adjacency.get(row, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(queue, (dist + length, nxt))
    return picked


def run_outage(city: City, scenario: OutageScenario, *, res: int = 9) -> OutageResult:
    """Trip ``scenario.element_id`` and follow who is off, step by step, until restoration.

    Parameters
    ----------
    city : City
        The city; its stored power network is used (`load_power_network`).
    scenario : OutageScenario
        What trips, when (local time), for how long, and whether ties may back-feed.
    res : int
        H3 resolution of the cube's cells (buildings at their centroid, lamps at their pole).

    Returns
    -------
    OutageResult
        ``cube``: Dataset over (time, cell), time = 15-min steps (UTC) covering whole local
        days from the outage day's midnight to restoration (24 h unless the outage runs past
        midnight); ``customers_off``, ``buildings_off``, ``lamps_off`` (mean count over the
        step), ``load_lost_kw`` (mean kW over the step).
    """
    net = load_power_network(city)
    kind = scenario.kind(net)
    tr = net.transformers
    ids = tr["transformer_id"].to_numpy()
    column = {"substation": "substation_id", "feeder": "feeder_id", "transformer": "transformer_id"}
    dead = tr[column[kind]].to_numpy() == scenario.element_id
    rows = np.flatnonzero(dead)

    midnight = local_midnight_utc(city, scenario.day)
    t0 = midnight + pd.Timedelta(hours=scenario.start)
    t_end = t0 + pd.Timedelta(hours=scenario.duration_h)
    days = max(1, math.ceil((t_end - midnight) / pd.Timedelta(days=1)))
    times = pd.date_range(midnight, periods=days * 96, freq=STEP)
    lon, lat = city.center
    lit = dark(lat, lon, (times + STEP / 2).to_numpy()).astype(float)
    local = to_local(city, times + STEP / 2)
    share = residential_share(np.asarray(local.hour + local.minute / 60, float))
    res_kw = tr["n_customers"].to_numpy() * ADMD_KW
    lamp_kw = tr["peak_load_kw"].to_numpy() - res_kw

    t_switch = t0 + pd.Timedelta(minutes=scenario.switching_min)
    until = np.full(len(rows), t_end.to_datetime64())
    picked = {}
    if scenario.backfeed and kind != "transformer" and t_switch < t_end:
        window = (times + STEP > t_switch) & (times < t_end)
        feeder_res = pd.Series(res_kw).groupby(tr["feeder_id"].to_numpy()).sum()
        feeder_lamp = pd.Series(lamp_kw).groupby(tr["feeder_id"].to_numpy()).sum()

        def window_load(f: str) -> np.ndarray:
            return feeder_res[f] * share[window] + feeder_lamp[f] * lit[window]

        load = np.outer(res_kw, share[window]) + np.outer(lamp_kw, lit[window])
        picked = _backfeed(net, dead, window_load, load, scenario.tie_headroom)
        for k, row in enumerate(rows):
            if row in picked:
                until[k] = t_switch.to_datetime64()

    # Share of each step each dead transformer is off: overlap of the step with [t0, until).
    step_start = times.to_numpy()[:, None]
    overlap = np.minimum(step_start + STEP.to_timedelta64(), until[None, :]) - np.maximum(
        step_start, t0.to_datetime64()
    )
    off = np.clip(overlap / STEP.to_timedelta64(), 0, 1)  # (time, dead transformer)

    where = _where(city.name, str(city.folder), res)
    pos = np.full(len(tr), -1)
    pos[rows] = np.arange(len(rows))
    b_sel = np.flatnonzero(pos[where["b_tr"]] >= 0)
    l_sel = np.flatnonzero(pos[where["l_tr"]] >= 0)
    cells, inverse = np.unique(
        np.concatenate([where["b_cell"][b_sel], where["l_cell"][l_sel]]), return_inverse=True
    )
    b_cell, l_cell = inverse[: len(b_sel)], inverse[len(b_sel) :]
    shape = (len(rows), len(cells))

    def per_cell(tr_pos, cell, weights):
        out = np.zeros(shape)
        np.add.at(out, (tr_pos, cell), weights)
        return out

    b_pos, l_pos = pos[where["b_tr"][b_sel]], pos[where["l_tr"][l_sel]]
    customers = where["b_customers"][b_sel]
    cust = per_cell(b_pos, b_cell, customers)
    lamps_off = (off * lit[:, None]) @ per_cell(l_pos, l_cell, 1.0)
    load_lost = (off * share[:, None]) @ per_cell(b_pos, b_cell, customers * ADMD_KW) + (
        off * lit[:, None]
    ) @ per_cell(l_pos, l_cell, where["l_kw"][l_sel])
    data = {
        "customers_off": (off @ cust, "customers", "customers (dwellings) without supply"),
        "buildings_off": (off @ per_cell(b_pos, b_cell, 1.0), "buildings", "buildings off"),
        "lamps_off": (lamps_off, "lamps", "light points dark while they should be lit"),
        "load_lost_kw": (load_lost, "kW", "demand not supplied"),
    }
    cube = xr.Dataset(
        {
            name: xr.DataArray(
                values.astype(np.float32),
                dims=("time", "cell"),
                attrs={"units": units, "long_name": long_name, "h3_resolution": res},
            )
            for name, (values, units, long_name) in data.items()
        },
        coords={"time": times.to_numpy(), "cell": cells.astype(np.uint64)},
        attrs={"element_id": scenario.element_id, "scenario": scenario.to_json()},
    )

    tr_customers = tr["n_customers"].to_numpy()[rows]
    minutes = (until - t0.to_datetime64()) / np.timedelta64(1, "m")
    backfed = np.array([row in picked for row in rows], bool)
    total = int(net.connections["customers"].sum())
    step_h = STEP / pd.Timedelta(hours=1)
    kpis = OutageKpis(
        customers=int(tr_customers.sum()),
        buildings=int(tr["n_buildings"].to_numpy()[rows].sum()),
        lamps=int(tr["n_lamps"].to_numpy()[rows].sum()),
        cabinets=int(tr["n_cabinets"].to_numpy()[rows].sum()),
        transformers=len(rows),
        customer_minutes_lost=float((tr_customers * minutes).sum()),
        saidi_min=float((tr_customers * minutes).sum() / max(total, 1)),
        energy_not_supplied_kwh=float(load_lost.sum() * step_h),
        lamp_hours_dark=float(lamps_off.sum() * step_h),
        customers_backfed=int(tr_customers[backfed].sum()),
        backfeed_at=t_switch.to_datetime64() if backfed.any() else None,
        restored_at=t_end.to_datetime64(),
    )
    fate = pd.DataFrame(
        {
            "transformer_id": ids[rows],
            "feeder_id": tr["feeder_id"].to_numpy()[rows],
            "customers": tr_customers,
            "off_from": t0.to_datetime64(),
            "off_until": until,
            "tie_id": [picked.get(r, ("", ""))[0] for r in rows],
            "backfeed_feeder": [picked.get(r, ("", ""))[1] for r in rows],
        }
    )
    return OutageResult(scenario, kind, cube, kpis, fate)
