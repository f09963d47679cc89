"""A year (8,760 h) of every light point under a lighting scenario: vectorised vs naive loop.

Run: python benchmarks/lighting_year.py [--naive-lamps 200]
The naive loop computes lamp by lamp, hour by hour, for ``--naive-lamps`` lamps; its per
lamp-hour rate gives the ratio. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from data.city import DEFAULT_CITY, load_city
from simulation.lighting.model import ESTONIAN_SCHEDULE, LightingScenario, schedule_levels, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-lamps", type=int, default=200)
    args = parser.parse_args()
    city = load_city(DEFAULT_CITY)
    scenario = LightingScenario(led_share_pct=100, dimming=ESTONIAN_SCHEDULE)
    simulate(city, scenario)  # warm caches (sunset table, bundle)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        result = simulate(city, scenario)
        runs.append(time.perf_counter() - started)
    lamp_hours = len(city.lamps) * 8760
    fast = statistics.median(runs)
    cells, gwh = result.energy.sizes["cell"], result.kpis["energy_kwh"] / 1e6
    print(
        f"vectorised: {len(city.lamps):,} lamps x 8,760 h in {fast:.2f} s "
        f"({lamp_hours / fast / 1e6:,.0f}M lamp-hours/s), {cells:,} cells, {gwh:.1f} GWh"
    )

    on = np.asarray(result.energy.sum("cell") > 0, float)  # hours with light, for the loop
    levels = schedule_levels(scenario.dimming)
    watts = city.lamps["power_w"].to_numpy(float)[: args.naive_lamps]
    started = time.perf_counter()
    total = 0.0
    for w in watts:
        for t in range(8760):
            if on[t]:
                total += w * levels[(t % 24) * 60 + 30] / 1000
    naive = time.perf_counter() - started
    rate = args.naive_lamps * 8760 / naive
    print(
        f"naive loop: {args.naive_lamps} lamps x 8,760 h in {naive:.2f} s "
        f"({rate / 1e6:.2f}M lamp-hours/s; the city would take {lamp_hours / rate:,.0f} s)"
    )
    print(f"ratio vectorised/naive: {lamp_hours / fast / rate:,.0f}x")


if __name__ == "__main__":
    main()
