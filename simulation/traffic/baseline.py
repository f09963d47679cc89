"""The ordinary weekday's traffic, stored in the bundle for the telemetry to count from.

The road counters of `data.telemetry.synthetic` are the engine's baseline seen through sensors: on
every
road the engine carries, a counter reports the baseline's hourly flow and speed (plus day-to-day
spread, counting noise and the weekend's lighter profile). So counters and baseline agree by
construction, to the sensors' noise; ``tests/simulation/test_traffic_baseline.py`` measures it.

``traffic_baseline.parquet`` (one row per carried road and local hour): road_id (str), hour
(int8, 0-23), flow_veh_h (float32, both directions), speed_kmh (float32, flow-weighted).

Rebuild: ``python -m simulation.traffic.baseline casablanca`` (~10 s), or ``python -m data.build``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import data.city
from data.build.parts import BundlePart
from data.errors import MadinaError
from data.traffic.physics import TRAFFIC_BASELINE_FILE
from simulation.traffic.uxsim_engine import TrafficResult, run_traffic


def baseline_table(result: TrafficResult) -> pd.DataFrame:
    """The (road, hour) table of a run."""
    roads = result.roads
    n_t, n_r = roads.sizes["time"], roads.sizes["road"]
    return pd.DataFrame(
        {
            "road_id": np.tile(roads["road"].to_numpy(), n_t),
            "hour": np.repeat(np.arange(n_t, dtype=np.int8), n_r),
            "flow_veh_h": roads["flow_veh_h"].to_numpy().ravel().astype(np.float32),
            "speed_kmh": roads["speed_kmh"].to_numpy().ravel().astype(np.float32),
        }
    )


def write_baseline(city: data.city.City, out: Path) -> TrafficResult:
    """Run the city's baseline day and write its table into the bundle folder ``out``."""
    result = run_traffic(city)
    table = baseline_table(result)
    tmp = out / (TRAFFIC_BASELINE_FILE + ".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(out / TRAFFIC_BASELINE_FILE)  # atomic: a failed run leaves the old file
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI: rebuild a bundle's traffic baseline."""
    parser = argparse.ArgumentParser(prog="python -m simulation.traffic.baseline")
    parser.add_argument("city", nargs="?", default="casablanca")
    args = parser.parse_args(argv)
    try:
        city = data.city.load_city(args.city)
    except MadinaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = write_baseline(city, data.city.bundle_dir(args.city))
    print(
        f"traffic baseline: {result.roads.sizes['road']:,} roads x 24 h, "
        f"{result.kpis.trips:,} trips, {result.engine['total_s']} s"
    )
    return 0


def _bundle_part(city: data.city.City, out: Path) -> str:
    result = write_baseline(city, out)
    return (
        f"{result.engine['links']} links, {result.kpis.trips:,} trips, mean speed "
        f"{result.kpis.mean_speed_kmh:.0f} km/h"
    )


# Built beside every bundle, after the networks (`data.build.parts`; registered in pyproject.toml).
BUNDLE_PART = BundlePart(
    "traffic baseline", 3, _bundle_part, "python -m simulation.traffic.baseline {city}"
)

if __name__ == "__main__":
    sys.exit(main())
