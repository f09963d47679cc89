"""A day of the city's water network in EPANET: network size, run times and scenario KPIs.

Run: python benchmarks/water_day.py [--repeat 3] [--sim-repeat 1]
Times (median of ``--repeat`` for reads, of ``--sim-repeat`` for simulations): loading the
stored tables, reading the model from ``water.inp.gz``, a 24 h extended-period run of the whole
network (hourly steps, pressure-driven demand, leakage emitters) split into writing the .inp,
EPANET's own read, the hydraulic solve and reading the results back, the baseline day
(uncached), a burst of a tertiary distribution pipe and pressure management at 20 m.
Baseline in the same run: reading the model (the least any run must do). Printed, never
asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import wntr
from timing import timed  # benchmarks/timing.py (scripts run from this folder)

from data.city import DEFAULT_CITY, load_city
from data.water.model import run_hydraulics
from data.water.network import read_water_network, water_dir
from simulation.water.hydraulics import (
    _baseline_day,
    baseline_day,
    run_pipe_break,
    run_pressure_management,
)
from simulation.water.scenarios import PipeBreakScenario, PressureScenario

HOURS = 24


def epanet_stages(wn) -> tuple[dict[str, float], object]:
    """`run_hydraulics` by stage (the steps of wntr's EpanetSimulator.run_sim), in seconds."""
    stages = {}
    with tempfile.TemporaryDirectory() as tmp:
        inp, rpt, out = (str(Path(tmp) / f"run.{ext}") for ext in ("inp", "rpt", "bin"))
        started = time.perf_counter()
        wntr.network.write_inpfile(wn, inp, units=wn.options.hydraulic.inpfile_units)
        stages["write .inp"] = time.perf_counter() - started
        started = time.perf_counter()
        toolkit = wntr.epanet.toolkit.ENepanet(version=2.2)
        toolkit.ENopen(inp, rpt, out)
        stages["EPANET reads .inp"] = time.perf_counter() - started
        started = time.perf_counter()
        toolkit.ENsolveH()
        stages["hydraulic solve"] = time.perf_counter() - started
        started = time.perf_counter()
        toolkit.ENsolveQ()
        toolkit.ENreport()
        toolkit.ENclose()
        stages["write binary output"] = time.perf_counter() - started
        started = time.perf_counter()
        results = wntr.epanet.io.BinFile().read(out)
        stages["read results"] = time.perf_counter() - started
    return stages, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sim-repeat", type=int, default=1)
    args = parser.parse_args()
    city = load_city(DEFAULT_CITY)
    folder = water_dir(city)

    load_s, net = timed(lambda: read_water_network(city.name, folder), args.repeat)
    pipes, junctions = net.pipes, net.junctions
    km = (pipes.groupby("role")["length_m"].sum() / 1000).sort_values(ascending=False)
    served = junctions.loc[junctions["supplied"], "population"].sum()
    print(
        f"network: {len(junctions):,} junctions, {int((pipes['role'] != 'inlet').sum()):,} "
        f"pipes, {int((pipes['role'] == 'inlet').sum())} PRV inlets, "
        f"{int((pipes['status'] == 'closed').sum()):,} closed boundary valves, "
        f"{len(net.valves):,} isolation valves, {int(pipes['segment'].max()) + 1:,} segments, "
        f"{len(net.sources)} reservoirs, {len(net.dmas)} DMAs"
    )
    print("pipe km by role: " + ", ".join(f"{role} {v:,.0f}" for role, v in km.items()))
    print(f"population served: {served:,.0f} ({served / junctions['population'].sum():.1%})")

    read_s, wn = timed(net.model, args.repeat)
    print(f"load stored tables: {load_s:.2f} s; read model from .inp (baseline): {read_s:.2f} s")

    sim_s, results = timed(lambda: run_hydraulics(net.model()), args.sim_repeat)
    print(
        f"24 h EPS (read model + run_hydraulics): {sim_s:.1f} s ({sim_s / read_s:.1f}x reading "
        f"the model)"
    )
    stages, staged = epanet_stages(net.model())
    print(
        "  by stage: "
        + ", ".join(f"{name} {s:.2f} s ({s / read_s:.1f}x)" for name, s in stages.items())
    )
    per_10k = len(junctions) / 10_000
    print(
        f"  per simulated hour per 10,000 junctions: hydraulic solve "
        f"{stages['hydraulic solve'] / HOURS / per_10k * 1000:.0f} ms, whole run "
        f"{(sim_s - read_s) / HOURS / per_10k * 1000:.0f} ms"
    )
    same = np.allclose(
        staged.node["pressure"].to_numpy(), results.node["pressure"].to_numpy(), atol=1e-6
    )
    print(f"  staged run gives the same pressures as run_hydraulics: {same}")

    def baseline_uncached():
        _baseline_day.cache_clear()
        return baseline_day(city.name)

    base_s, base = timed(baseline_uncached, args.sim_repeat)
    b = base.balance
    print(
        f"baseline day (uncached): {base_s:.1f} s ({base_s / read_s:.1f}x reading the model); "
        f"yield {b['billed_m3'] / b['produced_m3']:.1%}, produced {b['produced_m3']:,.0f} m3, "
        f"leaked {b['leaked_m3']:,.0f} m3"
    )

    tertiary = pipes.loc[
        (pipes["role"] == "distribution") & (pipes["road_class"] == "tertiary"), "link_id"
    ].iloc[100]
    scenarios = (
        (
            f"pipe break {tertiary} (tertiary, 06:00, isolated 2 h, repaired 6 h)",
            lambda: run_pipe_break(
                city.name, PipeBreakScenario(pipes=(tertiary,), isolation_h=2, repair_h=6)
            ),
        ),
        (
            "pressure management (critical 20 m, modulated)",
            lambda: run_pressure_management(city.name, PressureScenario(critical_pressure_m=20)),
        ),
    )
    for label, run in scenarios:
        seconds, result = timed(run, args.sim_repeat)
        k = result.kpis
        print(
            f"{label}: {seconds:.1f} s ({seconds / read_s:.1f}x reading the model, "
            f"{seconds / base_s:.2f}x the baseline day)\n"
            f"  yield {k.baseline_yield_share:.2%} -> {k.yield_share:.2%}; "
            f"leaked {k.leaked_m3:,.0f} m3; mean pressure {k.mean_pressure_m:.1f} m; "
            f"people without water {k.people_without_water:,} "
            f"({k.buildings_without_water:,} buildings, "
            f"{k.person_hours_without_water:,.0f} person-h); "
            f"volume lost {k.volume_lost_m3:,.0f} m3; "
            f"pressure drop area {k.pressure_drop_area_km2:.1f} km2"
        )


if __name__ == "__main__":
    main()
