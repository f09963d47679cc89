"""UXsim against Eclipse SUMO on the same arterial network and demand: run times and agreement.

Run: python benchmarks/traffic_engines.py [--cap-s 300] [--micro-share 0.1]
Baseline of the ratios: UXsim's 24 h baseline day (`run_traffic`, engine cache cleared) in
the same process. Then SUMO (`simulation.traffic.sumo_engine.run_sumo`), every run stopped at
``--cap-s`` wall seconds:
- mesoscopic, the peak hour 08:00-09:00 after 07:00-08:00 as warm-up (its trips loaded and
  driven, not reported), compared link by link with UXsim's 08:00 hour;
- mesoscopic, the whole day, when the peak run took under 2 min (the day's time extrapolated
  from the peak run by vehicles is printed first, marked so);
- microscopic, the peak hour with ``--micro-share`` of the demand (no warm-up), and the
  03:00 night hour at full demand; extrapolated to a full-demand day by their seconds per
  vehicle-hour on the links times UXsim's vehicle-hours of the day (marked so).
Agreement: on links carrying traffic in UXsim's hour, Pearson correlation of the hour's flows
and speeds, and the median and total ratios SUMO / UXsim. Machine load (1-min load average)
is printed before and after, since the wall times depend on it. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import xarray as xr

import simulation.traffic.uxsim_engine
from data.city import DEFAULT_CITY, load_city
from data.traffic.demand import demand
from data.traffic.network import traffic_network
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.sumo_engine import SumoError, run_sumo
from simulation.traffic.uxsim_engine import run_traffic

PEAK = 8  # local hour compared between the engines
NIGHT = 3
MIN_FLOW = 100  # veh/h in UXsim's hour: links compared (a platoon is 10 vehicles)
DAY_PEAK_S = 120  # the day is attempted only if the peak hour ran under this


def load() -> str:
    """The 1-minute load average against the machine's cores."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def timed_sumo(label: str, cap_s: float, **kwargs) -> tuple[float, xr.Dataset | None]:
    """Wall seconds and result of `run_sumo`, or the cap and None if SUMO ran over it."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    started = time.perf_counter()
    try:
        out = run_sumo(DEFAULT_CITY, TrafficScenario(), timeout_s=cap_s, **kwargs)
    except SumoError as err:
        print(f"{label}: stopped at the {cap_s:.0f} s cap ({str(err)[:120]}...)")
        return cap_s, None
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu
    return time.perf_counter() - started, out.assign_attrs(sumo_cpu_s=cpu)


def describe(label: str, seconds: float, ds: xr.Dataset, ux_s: float) -> None:
    """One SUMO run's wall time, its split and its vehicles."""
    a = ds.attrs
    print(
        f"{label}: {seconds:.1f} s ({seconds / ux_s:.1f}x UXsim's 24 h day; build "
        f"{a['build_s']:.1f} s, SUMO {a['simulate_s']:.1f} s, of it {a['sumo_cpu_s']:.1f} s CPU "
        "in SUMO's processes)\n"
        f"  {a['vehicles']:,} vehicles loaded, {a['inserted']:,} inserted, {a['arrived']:,} "
        f"arrived (mean trip {a['mean_trip_min']:.1f} min), {a['running']:,} still running and "
        f"{a['waiting']:,} waiting to enter at the end, {a['teleports']:,} teleports (jams)"
    )


def agreement(label: str, ux: xr.Dataset, su: xr.Dataset, scale: float = 1.0) -> None:
    """Flow and speed agreement of one hour, (link) Datasets; SUMO flows x ``scale``."""
    fu = ux["flow_veh_h"].to_numpy()
    fs = su["flow_veh_h"].to_numpy() * scale
    su_speed, ux_speed = su["speed_kmh"].to_numpy(), ux["speed_kmh"].to_numpy()
    on = fu >= MIN_FLOW
    both = on & (fs > 0)
    km = ux["length_m"].to_numpy() / 1000

    def mean_speed(flow, speed):  # vehicle-km / vehicle-hours over all links
        return (flow * km).sum() / (flow * km / np.maximum(speed, 0.1)).sum()

    print(
        f"{label} ({on.sum()} links with UXsim flow >= {MIN_FLOW} veh/h of {len(fu)}):\n"
        f"  flow: r = {np.corrcoef(fu[on], fs[on])[0, 1]:.2f}, median SUMO/UXsim "
        f"{np.median(fs[both] / fu[both]):.2f}, totals {fs.sum():,.0f} / {fu.sum():,.0f} "
        f"veh entering links = {fs.sum() / fu.sum():.2f}\n"
        f"  speed: r = {np.corrcoef(ux_speed[both], su_speed[both])[0, 1]:.2f}, median "
        f"SUMO/UXsim {np.median(su_speed[both] / ux_speed[both]):.2f}; network mean "
        f"{mean_speed(fs, su_speed):.1f} km/h SUMO, {mean_speed(fu, ux_speed):.1f} km/h UXsim; "
        f"links under half their free speed: SUMO "
        f"{(su_speed[on] < 0.5 * su['free_speed_kmh'].to_numpy()[on]).mean():.0%}, UXsim "
        f"{(ux_speed[on] < 0.5 * ux['free_speed_kmh'].to_numpy()[on]).mean():.0%}"
    )


def vehicle_hours(ds: xr.Dataset) -> float:
    """Vehicle-hours spent on the links over the Dataset's hours (density x length)."""
    return float((ds["density_veh_km"] * ds["length_m"] / 1000).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-s", type=float, default=300.0)
    parser.add_argument("--micro-share", type=float, default=0.1)
    args = parser.parse_args()
    city = load_city(DEFAULT_CITY)
    net, dem = traffic_network(city), demand(city)  # cached: the runs time the engines
    hourly = dem.trips.sum(axis=(1, 2))
    print(
        f"{city.name}: {len(net.nodes)} junctions, {len(net.links)} links; {dem.total:,.0f} "
        f"trips/day, {hourly[PEAK]:,.0f} at {PEAK:02d}:00, {hourly[NIGHT]:,.0f} at "
        f"{NIGHT:02d}:00; {load()}"
    )

    simulation.traffic.uxsim_engine._engine_run.cache_clear()
    started = time.perf_counter()
    base = run_traffic(city.name, TrafficScenario())
    ux_s = time.perf_counter() - started
    e = base.engine
    print(
        f"UXsim 24 h baseline (baseline of the ratios): {ux_s:.1f} s (engine build "
        f"{e['build_s']:.1f} s, simulate {e['simulate_s']:.1f} s) for {e['vehicles']:,} "
        f"vehicles in platoons of {e['platoon']}; {base.kpis.trips_unfinished:,} unfinished"
    )
    ux_peak = base.links.isel(time=PEAK)

    peak_s, peak = timed_sumo(
        "SUMO meso peak", args.cap_s, hours=1, start_h=PEAK, warmup_h=1
    )  # fmt: skip
    if peak is not None:
        describe(f"SUMO meso {PEAK:02d}:00-{PEAK + 1:02d}:00 (+1 h warm-up)", peak_s, peak, ux_s)
        agreement(f"  meso vs UXsim at {PEAK:02d}:00", ux_peak, peak.isel(time=0))
        per_vehicle = peak_s / peak.attrs["vehicles"]
        cpu_per_vehicle = peak.attrs["sumo_cpu_s"] / peak.attrs["vehicles"]
        print(
            f"SUMO meso 24 h EXTRAPOLATED by vehicles from the two peak hours (not measured): "
            f"~{per_vehicle * dem.total:.0f} s wall ({per_vehicle * dem.total / ux_s:.0f}x "
            f"UXsim), ~{cpu_per_vehicle * dem.total:.0f} s CPU"
        )
        if peak_s < DAY_PEAK_S:
            day_s, day = timed_sumo("SUMO meso 24 h", args.cap_s)
            if day is not None:
                describe("SUMO meso 24 h", day_s, day, ux_s)
                agreement(f"  meso day vs UXsim at {PEAK:02d}:00", ux_peak, day.isel(time=PEAK))
                day_flow = day["flow_veh_h"].sum("link").to_numpy()
                ux_flow = base.links["flow_veh_h"].sum("link").to_numpy()
                print(
                    f"  hourly network flow r = {np.corrcoef(day_flow, ux_flow)[0, 1]:.2f}, day "
                    f"total SUMO/UXsim {day_flow.sum() / ux_flow.sum():.2f}"
                )
        else:
            print(f"SUMO meso 24 h: not run (the peak took over {DAY_PEAK_S} s)")

    share = args.micro_share
    micro_runs = []  # (seconds, vehicle-hours on the network) of each microscopic run
    micro_s, micro = timed_sumo(
        "SUMO micro peak", args.cap_s, hours=1, start_h=PEAK, demand_share=share,
        mesoscopic=False,
    )  # fmt: skip
    if micro is not None:
        describe(
            f"SUMO micro {PEAK:02d}:00, {share:.0%} of demand, no warm-up", micro_s, micro, ux_s
        )
        agreement(f"  micro x {1 / share:.0f} vs UXsim at {PEAK:02d}:00", ux_peak,
                  micro.isel(time=0), scale=1 / share)  # fmt: skip
        micro_runs.append((micro_s, vehicle_hours(micro)))
    night_s, night = timed_sumo(
        "SUMO micro night", args.cap_s, hours=1, start_h=NIGHT, mesoscopic=False
    )  # fmt: skip
    if night is not None:
        describe(f"SUMO micro {NIGHT:02d}:00, full demand (quietest hour)", night_s, night, ux_s)
        agreement(f"  micro vs UXsim at {NIGHT:02d}:00", base.links.isel(time=NIGHT),
                  night.isel(time=0))  # fmt: skip
        micro_runs.append((night_s, vehicle_hours(night)))
    if micro_runs:
        seconds, veh_h = (sum(v) for v in zip(*micro_runs, strict=True))
        day = seconds / veh_h * base.kpis.vehicle_hours
        print(
            f"SUMO micro 24 h at full demand EXTRAPOLATED (not measured): {seconds / veh_h:.2f} s "
            f"per vehicle-hour on the links (the runs above) x UXsim's "
            f"{base.kpis.vehicle_hours:,.0f} vehicle-hours of the day = ~{day:.0f} s "
            f"({day / 3600:.1f} h, {day / ux_s:.0f}x UXsim); a lower bound: SUMO's peak is more "
            "congested than UXsim's (more vehicle-hours)"
        )
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
