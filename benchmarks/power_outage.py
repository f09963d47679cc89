"""Outage analysis and load flow on the distribution network: network size and run times.

Run: python benchmarks/power_outage.py [--repeat 5]
Times (median of ``--repeat``): building the network from the bundle, loading the stored
files, an outage of the largest feeder and of the largest substation (cube at resolution 9),
and an AC load flow of the whole MV network at 20:00. Baseline in the same run: loading the
stored network (the least any analysis must do); outage times are given as a ratio of it.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import time

from timing import timed  # benchmarks/timing.py (scripts run from this folder)

from data.city import DEFAULT_CITY, load_city
from data.power.network import _load, build_power_network, load_power_network
from simulation.power.load_flow import load_flow
from simulation.power.outage import OutageScenario, run_outage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    city = load_city(DEFAULT_CITY)
    build_s, net = timed(lambda: build_power_network(city), args.repeat)

    def load_uncached():
        _load.cache_clear()
        return load_power_network(city)

    load_s, _ = timed(load_uncached, args.repeat)
    mv = net.lines[net.lines["kind"] == "mv"]
    print(
        f"network: {len(net.substations)} substations, {len(net.feeders)} feeders, "
        f"{len(net.transformers):,} transformers, {len(mv):,} MV sections "
        f"({mv['length_m'].sum() / 1000:,.0f} km), {len(net.lines) - len(mv)} ties, "
        f"{len(net.connections):,} buildings, {int(net.connections['customers'].sum()):,} "
        f"customers, {len(city.lamps):,} lamps"
    )
    print(f"build from bundle: {build_s:.2f} s; load stored files: {load_s * 1000:.0f} ms")

    feeder = net.feeders["n_transformers"].idxmax()
    substation = net.substations.loc[net.substations["n_feeders"].idxmax(), "substation_id"]
    started = time.perf_counter()
    run_outage(city, OutageScenario(feeder))
    first = time.perf_counter() - started
    print(f"first outage (indexes buildings/lamps to H3 once): {first:.2f} s")
    for label, element in (("feeder", feeder), ("substation", substation)):
        seconds, result = timed(lambda e=element: run_outage(city, OutageScenario(e)), args.repeat)
        k = result.kpis
        print(
            f"outage {label} {element}: {seconds * 1000:.0f} ms ({seconds / load_s:.1f}x loading "
            f"the network); {k.transformers} transformers, {k.customers:,} customers, "
            f"{k.lamps:,} lamps, {result.cube.sizes['cell']} cells; back-fed "
            f"{k.customers_backfed:,}; {k.customer_minutes_lost:,.0f} customer-min, "
            f"ENS {k.energy_not_supplied_kwh:,.0f} kWh"
        )
    load_flow(city)  # warm: reads power.json once
    seconds, flow = timed(lambda: load_flow(city, hour=20), args.repeat)
    print(
        f"load flow (all feeders, 20:00): {seconds * 1000:.0f} ms ({seconds / load_s:.1f}x "
        f"loading the network); max loading {flow.lines['loading_pct'].max():.0f}%, "
        f"min voltage {flow.buses['vm_pu'].min():.3f} p.u."
    )


if __name__ == "__main__":
    main()
