"""A day of city traffic on UXsim: network size, demand, run times and a browser playback's data.

Run: python benchmarks/traffic_day.py [--repeat 3] [--sim-repeat 1]
Times (median of ``--repeat`` for the network and demand, of ``--sim-repeat`` for engine runs,
every run uncached): building the arterial network from the bundle's roads, the gravity demand,
the 24 h baseline (split into building the engine's world with its vehicles and simulating, as
the run reports it in ``result.engine``), works closing the busiest segment at 08:00 from 07:00
to 12:00, and +5% demand. Baseline in the same run: the 24 h baseline day; scenarios are given
as a ratio of it. Also the data a browser receives for the day (the traffic layer once, then
the 24 h playback: per hour and segment speed, flow and works, plus sampled trips) and the
process's peak memory. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
from timing import timed  # benchmarks/timing.py (scripts run from this folder)

import data.traffic.demand
import data.traffic.network
import simulation.traffic.uxsim_engine
from data.city import DEFAULT_CITY, load_city
from data.traffic.demand import demand
from data.traffic.network import ARTERIAL_CLASSES, traffic_network
from layers.catalog import build_layer
from layers.codec import pack_layer
from layers.traffic.flow import packed_traffic_playback
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import HOURS, TAIL_H, run_traffic


def uncached_run(city: str, scenario: TrafficScenario):
    """`run_traffic` with the engine cache cleared: a real engine run."""
    simulation.traffic.uxsim_engine._engine_run.cache_clear()
    return run_traffic(city, scenario)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sim-repeat", type=int, default=1)
    args = parser.parse_args()
    city = load_city(DEFAULT_CITY)
    rss_loaded = peak_rss_mb()

    def network_uncached():
        data.traffic.network._cached.cache_clear()
        return traffic_network(city)

    def demand_uncached():
        data.traffic.demand._cached.cache_clear()
        return demand(city)

    net_s, net = timed(network_uncached, args.repeat)
    dem_s, dem = timed(demand_uncached, args.repeat)

    road_ids = np.concatenate(net.segments["road_ids"].map(list).to_numpy())
    arterial = city.roads[city.roads["road_class"].isin(ARTERIAL_CLASSES)]
    carried = arterial["road_id"].isin(road_ids)
    km = net.segments["length_m"].sum() / 1000
    by_class = net.segments.groupby("road_class")["length_m"].sum() / 1000
    print(
        f"network: {len(net.nodes):,} nodes, {len(net.links):,} links, "
        f"{len(net.segments):,} segments ({km:,.0f} km: "
        + ", ".join(f"{c} {v:,.0f}" for c, v in by_class.sort_values(ascending=False).items())
        + f"), carrying {len(road_ids):,} of {len(arterial):,} arterial roads "
        f"({carried.mean():.1%}; {arterial.loc[carried, 'length_m'].sum() / 1000:,.0f} of "
        f"{arterial['length_m'].sum() / 1000:,.0f} km) and {len(road_ids) / len(city.roads):.1%} "
        f"of all {len(city.roads):,} roads"
    )
    hourly = dem.trips.sum(axis=(1, 2))
    print(
        f"demand: {len(dem.zones)} zones, {dem.total:,.0f} vehicle trips/day for "
        f"{dem.zones['population'].sum():,.0f} people; peak hour "
        f"{int(np.argmax(hourly)):02d}:00 {hourly.max():,.0f} trips, 03:00 "
        f"{hourly[3]:,.0f}"
    )

    base_s, base = timed(lambda: uncached_run(city.name, TrafficScenario()), args.sim_repeat)
    rss_base = peak_rss_mb()
    e, k = base.engine, base.kpis
    print(
        f"network build: {net_s:.2f} s ({net_s / base_s:.2f}x the baseline day); demand build: "
        f"{dem_s:.2f} s ({dem_s / base_s:.2f}x)"
    )
    print(
        f"24 h baseline (uncached, baseline of the ratios): {base_s:.1f} s for "
        f"{e['vehicles']:,} vehicles in platoons of {e['platoon']} "
        f"({e['vehicles'] // e['platoon']:,} platoons), {e['step_s']} s steps\n"
        f"  engine build (world + vehicles) {e['build_s']:.1f} s ({e['build_s'] / base_s:.0%}), "
        f"simulate {e['simulate_s']:.1f} s ({e['simulate_s'] / base_s:.0%}), results "
        f"{e['total_s'] - e['build_s'] - e['simulate_s']:.1f} s, outside the engine run "
        f"{base_s - e['total_s']:.1f} s\n"
        f"  per simulated hour: {e['simulate_s'] / (HOURS + TAIL_H) * 1000:.0f}"
        f" ms; per 1,000 vehicles: {base_s / e['vehicles'] * 1e6:.1f} ms"
    )
    print(
        f"  KPIs: {k.trips:,} trips arrived, {k.trips_unfinished:,} unfinished; "
        f"{k.vehicle_km:,.0f} veh-km, {k.vehicle_hours:,.0f} veh-h, mean speed "
        f"{k.mean_speed_kmh:.1f} km/h, delay {k.delay_veh_h:,.0f} veh-h, "
        f"{k.congested_link_hours:,.0f} congested link-h, CO2 {k.co2_t:,.0f} t"
    )

    flow8 = base.links["flow_veh_h"].isel(time=8).to_numpy()
    busiest = int(base.links["segment"].to_numpy()[int(np.argmax(flow8))])
    road = net.segments.at[busiest, "road_ids"][0]
    scenarios = (
        (
            f"works: segment {busiest} ({net.segments.at[busiest, 'road_class']}, busiest at "
            f"08:00, {flow8.max():,.0f} veh/h) closed 07:00-12:00",
            TrafficScenario(closed_roads=(road,), closure_from_h=7, closure_to_h=12),
        ),
        ("+5% demand", TrafficScenario(demand_growth_pct=5)),
    )
    for label, scenario in scenarios:
        seconds, result = timed(lambda s=scenario: uncached_run(city.name, s), args.sim_repeat)
        r, ek = result.kpis, result.engine
        print(
            f"{label}: engine run {ek['total_s']:.1f} s ({ek['total_s'] / e['total_s']:.2f}x the "
            f"baseline day's; simulate {ek['simulate_s']:.1f} s, "
            f"{ek['simulate_s'] / e['simulate_s']:.2f}x); {seconds:.1f} s wall with today's run "
            "for the comparison\n"
            f"  {ek['vehicles']:,} vehicles ({ek['vehicles'] / e['vehicles']:.3f}x), "
            f"{r.trips_unfinished:,} unfinished; veh-h {r.vehicle_hours:,.0f} "
            f"({r.vehicle_hours / k.vehicle_hours:.2f}x), delay {r.delay_veh_h:,.0f} veh-h "
            f"({r.delay_veh_h / k.delay_veh_h:.2f}x), mean speed {r.mean_speed_kmh:.1f} km/h"
        )

    # what the browser receives: the traffic layer once, then one playback per run
    layer = pack_layer(build_layer(city, "traffic"))
    started = time.perf_counter()
    playback = packed_traffic_playback(city.name, TrafficScenario())
    pack_s = time.perf_counter() - started
    columns = playback.manifest["columns"]
    parts = ", ".join(f"{name} {d['count'] * np.dtype(d['dtype']).itemsize:,}" for name, d in
                      columns.items())  # fmt: skip
    print(
        f"browser: traffic layer {len(layer.blob):,} B ({layer.manifest['length']:,} roads); "
        f"24 h playback {len(playback.blob):,} B ({playback.manifest['trips']:,} sampled trips; "
        f"{parts}), packed in {pack_s:.2f} s ({pack_s / base_s:.2f}x the baseline day), "
        f"manifest {len(json.dumps(playback.manifest)):,} B of JSON"
    )
    print(
        f"peak RSS: {peak_rss_mb():,.0f} MB (after loading the city {rss_loaded:,.0f} MB, after "
        f"the baseline day {rss_base:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
