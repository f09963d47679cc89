"""The EPANET model of a water network layout and its solving: PRVs, leakage, velocity sizing.

Never decides where pipes, valves or sources go (`data.water.layout`) nor writes the stored
network files (`data.water.network`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from data.water.layout import (
    CATALOGUE_MM,
    DESIGN_LEAKAGE_FACTOR,
    DESIGN_VELOCITY_MS,
    NEWEST_YEAR,
    demand_pattern,
)
from data.water.physics import CONSUMPTION_L_PER_DAY, LEAKAGE_EXPONENT, NETWORK_YIELD

SOURCE_HEAD_ABOVE_HIGHEST_M = 35.0  # reservoir level over the highest trunk node
CRITICAL_PRESSURE_M = 25.0  # PRV outlets keep 25 m at the DMA's highest node (baseline)
DMA_HEADLOSS_ALLOWANCE_M = 5.0  # allowance for losses inside a DMA at peak
MAX_VELOCITY_MS = 1.5  # after tree sizing, pipes above this at peak are enlarged (EPANET)
SIZING_PASSES = 4
REQUIRED_PRESSURE_M = 15.0  # full demand served from 15 m (PDD); none below 1 m
MINIMUM_PRESSURE_M = 1.0
LEAK_AGE_FACTOR_YEARS = 50.0  # a pipe leaks (1 + age / 50) times a new one per metre


def run_hydraulics(wn: wntr.network.WaterNetworkModel):
    """Solve ``wn`` with EPANET 2.2 (wntr's EpanetSimulator); returns its results."""
    with tempfile.TemporaryDirectory() as tmp:
        return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(tmp) / "run"))


def model(pipes, junctions, sources, emitter_c: np.ndarray) -> wntr.network.WaterNetworkModel:
    """The WNTR model of a layout; ``emitter_c`` per junction (m3/s per m of pressure**N)."""
    wn = wntr.network.WaterNetworkModel()
    wn.title = [
        "Madina Twin water distribution network (synthetic, generated from the city bundle)",
        "Rebuild: python -m data.water.network <city>; see data/water/network.py",
    ]
    wn.options.time.duration = 24 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    # Metric units in every .inp written (runs too): wntr converts emitter coefficients as if
    # the exponent were 0.5, which is exact only when pressure is in metres (LPS, not GPM/psi).
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = REQUIRED_PRESSURE_M
    wn.options.hydraulic.minimum_pressure = MINIMUM_PRESSURE_M
    wn.options.hydraulic.emitter_exponent = LEAKAGE_EXPONENT
    wn.options.hydraulic.trials = 100
    wn.options.hydraulic.unbalanced = "CONTINUE"  # report a hard hour, do not abort the day
    wn.options.hydraulic.unbalanced_value = 20
    wn.add_pattern("residential", demand_pattern())
    demand_m3s = junctions["population"].to_numpy() * CONSUMPTION_L_PER_DAY / 1000 / 86400
    lon, lat = junctions.geometry.x.to_numpy(), junctions.geometry.y.to_numpy()
    for k, row in enumerate(junctions.itertuples(index=False)):
        wn.add_junction(
            row.junction_id,
            base_demand=float(demand_m3s[k]),
            demand_pattern="residential",
            elevation=float(row.elevation_m),
            coordinates=(float(lon[k]), float(lat[k])),
        )
        if emitter_c[k] > 0:
            wn.get_node(row.junction_id).emitter_coefficient = float(emitter_c[k])
    head = source_head(junctions)
    for i, node in enumerate(sources):
        name = f"RES-{i + 1}"
        wn.add_reservoir(name, base_head=head, coordinates=(float(lon[node]), float(lat[node])))
        wn.add_pipe(f"{name}-MAIN", name, junctions["junction_id"].iat[node], length=50.0,
                    diameter=1.2, roughness=130.0)  # fmt: skip
    settings = _prv_settings(pipes, junctions)
    for row in pipes.itertuples(index=False):
        if row.role == "inlet":
            wn.add_valve(
                row.link_id, row.start_id, row.end_id, diameter=row.diameter_mm / 1000,
                valve_type="PRV", minor_loss=0.0, initial_setting=settings[row.link_id],
            )  # fmt: skip
            continue
        wn.add_pipe(
            row.link_id, row.start_id, row.end_id, length=float(row.length_m),
            diameter=row.diameter_mm / 1000, roughness=float(row.roughness_c),
            initial_status="CLOSED" if row.status == "closed" else "OPEN",
        )  # fmt: skip
    return wn


def source_head(junctions: pd.DataFrame) -> float:
    """The reservoirs' common water level (m): above the highest trunk junction."""
    elevation = junctions["elevation_m"].to_numpy()
    trunk = junctions["dma_id"].to_numpy() == "trunk"
    return float(elevation[trunk].max() if trunk.any() else elevation.max()) + (
        SOURCE_HEAD_ABOVE_HIGHEST_M
    )


def _prv_settings(pipes, junctions) -> dict[str, float]:
    """Outlet pressure head (m) of each PRV: the critical-point target plus the DMA's relief."""
    elevation = junctions.set_index("junction_id")["elevation_m"]
    highest = junctions.groupby("dma_id")["elevation_m"].max()
    inlets = pipes[pipes["role"] == "inlet"]
    outlet_elev = elevation[inlets["end_id"]].to_numpy()
    top = highest[inlets["dma_id"]].to_numpy()
    setting = CRITICAL_PRESSURE_M + DMA_HEADLOSS_ALLOWANCE_M + np.maximum(0, top - outlet_elev)
    return dict(zip(inlets["link_id"], np.round(setting, 1), strict=True))


def leak_weights(pipes, junctions) -> np.ndarray:
    """Leakage weight per junction: half the length of its open distribution pipes, by age."""
    open_dist = pipes[(pipes["role"] != "trunk") & (pipes["status"] == "open")]
    age = NEWEST_YEAR - open_dist["install_year"]
    weight = open_dist["length_m"] * (1 + age / LEAK_AGE_FACTOR_YEARS)
    ends = pd.concat([
        pd.Series(weight.to_numpy() / 2, index=open_dist["start_id"]),
        pd.Series(weight.to_numpy() / 2, index=open_dist["end_id"]),
    ])  # fmt: skip
    per_node = ends.groupby(level=0).sum()
    trunk = junctions["dma_id"].to_numpy() == "trunk"
    out = per_node.reindex(junctions["junction_id"]).fillna(0.0).to_numpy()
    return np.where(trunk, 0.0, out)


def water_balance(wn, results) -> dict[str, float]:
    """Produced, billed (consumed) and leaked volumes (m3) over the run's whole hours."""
    pressure = results.node["pressure"]
    demand = results.node["demand"]
    junction_names = wn.junction_name_list
    coeff = pd.Series(
        {n: wn.get_node(n).emitter_coefficient or 0.0 for n in junction_names}, dtype=float
    )
    p = pressure[junction_names].clip(lower=0).iloc[:-1]
    leak = p.pow(wn.options.hydraulic.emitter_exponent).mul(coeff, axis=1)
    total = demand[junction_names].iloc[:-1]
    step_s = wn.options.time.report_timestep
    leaked = float(leak.to_numpy().sum() * step_s)
    consumed = float((total - leak).clip(lower=0).to_numpy().sum() * step_s)
    return {"produced_m3": leaked + consumed, "billed_m3": consumed, "leaked_m3": leaked}


def calibrate_leakage(pipes, junctions, sources) -> tuple[np.ndarray, dict]:
    """Emitter coefficients giving the target yield (billed / produced), two EPANET runs."""
    weights = leak_weights(pipes, junctions)
    demand_m3 = junctions["population"].sum() * CONSUMPTION_L_PER_DAY / 1000
    if demand_m3 <= 0 or weights.sum() <= 0:  # nobody to serve, or no distribution pipe
        return np.zeros(len(junctions)), {"produced_m3": 0.0, "billed_m3": 0.0,
                                          "leaked_m3": 0.0, "yield": float("nan")}  # fmt: skip
    target_leak = demand_m3 * (1 - NETWORK_YIELD) / NETWORK_YIELD
    mean_pressure_guess = 35.0
    coeff = weights * target_leak / 86400 / mean_pressure_guess**LEAKAGE_EXPONENT / weights.sum()
    for attempt in range(3):
        wn = model(pipes, junctions, sources, coeff)
        balance = water_balance(wn, run_hydraulics(wn))
        balance["yield"] = balance["billed_m3"] / balance["produced_m3"]
        if abs(balance["yield"] - NETWORK_YIELD) < 0.002 or attempt == 2:
            return coeff, balance
        # leak ~ C at fixed pressure; the billed volume barely moves with C
        target = balance["billed_m3"] * (1 - NETWORK_YIELD) / NETWORK_YIELD
        coeff = coeff * target / balance["leaked_m3"]
    raise AssertionError("unreachable")


def upsize_by_velocity(pipes, junctions, sources) -> list[int]:
    """Enlarge pipes faster than `MAX_VELOCITY_MS` at the peak hour, re-solving each pass.

    Returns how many pipes each pass enlarged.
    """
    sizes = np.array(CATALOGUE_MM)
    changed = []
    for _ in range(SIZING_PASSES):
        wn = model(pipes, junctions, sources, np.zeros(len(junctions)))
        wn.options.time.duration = 0
        wn.options.time.pattern_start = int(np.argmax(demand_pattern())) * 3600
        wn.options.hydraulic.demand_multiplier = DESIGN_LEAKAGE_FACTOR
        velocity = run_hydraulics(wn).link["velocity"].iloc[0].abs()
        v = velocity.reindex(pipes["link_id"]).fillna(0.0).to_numpy()
        fast = v > MAX_VELOCITY_MS
        changed.append(int(fast.sum()))
        if not fast.any():
            break
        diameter = pipes["diameter_mm"].to_numpy().astype(float)
        needed = diameter * np.sqrt(v / DESIGN_VELOCITY_MS)
        bigger = sizes[np.minimum(np.searchsorted(sizes, needed), len(sizes) - 1)]
        pipes["diameter_mm"] = np.where(fast, np.maximum(bigger, diameter), diameter).astype(int)
    return changed
