"""The power network on disk: its GeoParquet files and pandapower model, written together.

`python -m data.power <city>` rebuilds them into the city's bundle folder (~1 s).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from data.build.parts import BundlePart
from data.city import DEFAULT_CITY, load_city
from data.power.model import save_pandapower_model
from data.power.network import FILES, GEO_FILES, PowerNetwork, build_power_network


def save_power_network(net: PowerNetwork, folder: Path) -> list[Path]:
    """Write the network's files (and its pandapower model) into ``folder``; return the paths."""
    folder = Path(folder)
    paths = []
    for name in FILES:
        path = folder / f"power_{name}.parquet"
        frame = getattr(net, name)
        if name not in GEO_FILES:
            frame = pd.DataFrame(frame)
        frame.to_parquet(path, compression="zstd", index=False)
        paths.append(path)
    return [*paths, save_pandapower_model(net, folder)]


def main(argv: list[str] | None = None) -> None:
    """CLI: rebuild the power network of a city into its bundle folder."""
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else DEFAULT_CITY
    started = time.perf_counter()
    city = load_city(name)
    net = build_power_network(city)
    paths = save_power_network(net, city.folder)
    mv = int((net.lines["kind"] == "mv").sum())
    print(
        f"{name}: {len(net.substations)} substations, {net.transformers['feeder_id'].nunique()} "
        f"feeders, {len(net.transformers):,} transformers, {mv:,} MV sections, "
        f"{len(net.lines) - mv} ties, {len(net.connections):,} buildings, "
        f"{int(net.connections['customers'].sum()):,} customers "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for path in paths:
        print(f"  {path} ({path.stat().st_size / 1e6:.2f} MB)")


def _bundle_part(city, out: Path) -> str:
    net = build_power_network(city)
    save_power_network(net, out)
    return (
        f"{len(net.substations)} substations, {len(net.transformers):,} transformers, "
        f"{len(net.lines):,} lines"
    )


# Built beside every bundle (`data.build.parts`; registered in pyproject.toml).
BUNDLE_PART = BundlePart("power network", 1, _bundle_part, "python -m data.power {city}")
