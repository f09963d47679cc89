"""The water distribution network of a city: pipes along its streets, DMAs, sources, leakage.

Generated deterministically from the city bundle (`data.water.layout`), modelled and calibrated
in EPANET (`data.water.model`) and stored beside it (EPANET ``water.inp.gz`` for the
hydraulics, GeoParquet for geometry); solving scenarios is `simulation.water.hydraulics`'s job.

Layout (every fact below is an assumption unless a source is given):

- one pipe under every road segment (id = road_id), junctions at the road nodes; pipes on
  motorways, trunk and primary roads are the trunk mains, the rest distribution pipes;
- ground elevation from a plane through approximate spot heights (`SPOT_HEIGHTS`);
- sources: reservoirs at the high inland edge (water reaches Casablanca from the Oum Er-Rbia
  and Bouregreg plants to reservoirs on its southern heights) at one common head;
- district metered areas (DMAs) = H3 resolution-7 cells, as the telemetry's DMA meters: the
  distribution pipes of a cell are fed from the trunk through pressure-reducing valves (PRVs),
  every other connection to the trunk or to another DMA is a closed boundary valve;
- demand: the district's population spread over its buildings by floor area, 110 L/person/day
  (`data.telemetry.synthetic`), on the telemetry's daily profile; leakage as pressure-dependent
  emitters on distribution junctions, calibrated so the network yield is the seed's 72.3 %;
- isolation valves per wntr's "strategic N-2" rule (valves on all but two pipes at each
  junction); segments are what closing them isolates.
"""

from __future__ import annotations

import functools
import gzip
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import wntr

from data.build.parts import BundlePart
from data.city import City, load_city
from data.errors import WaterNetworkError
from data.water.layout import layout
from data.water.model import calibrate_leakage, model, source_head, upsize_by_velocity
from data.water.physics import CONSUMPTION_L_PER_DAY

INP_FILE = "water.inp.gz"
PIPES_FILE = "water_pipes.parquet"
JUNCTIONS_FILE = "water_junctions.parquet"
DMAS_FILE = "water_dmas.parquet"
VALVES_FILE = "water_valves.parquet"
SOURCES_FILE = "water_sources.parquet"
WATER_FILES = (INP_FILE, PIPES_FILE, JUNCTIONS_FILE, DMAS_FILE, VALVES_FILE, SOURCES_FILE)
REBUILD = "python -m data.water.network {city}"
VALVE_SEED = 5


@dataclass(frozen=True)
class WaterNetwork:
    """A city's water network: the EPANET model file and its GeoDataFrames (EPSG:4326)."""

    city: str
    inp_path: Path
    pipes: gpd.GeoDataFrame  # link_id, role, status, diameter_mm, ..., dma_id, segment
    junctions: gpd.GeoDataFrame  # junction_id, node_id, elevation_m, dma_id, population, ...
    dmas: gpd.GeoDataFrame  # dma_id, n_inlets, population, demand_m3_day, geometry
    valves: gpd.GeoDataFrame  # valve_id, link_id, node_id, geometry
    sources: gpd.GeoDataFrame  # junction_id (RES-n), node_id, elevation_m, head_m, geometry

    def model(self) -> wntr.network.WaterNetworkModel:
        """A fresh WNTR model read from the stored .inp (callers may change it freely)."""
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / "water.inp"
            with gzip.open(self.inp_path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return wntr.network.WaterNetworkModel(str(plain))


def valve_segments(pipes, junctions, valves: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segment id of each pipe and junction: what closing the surrounding valves isolates.

    A pipe joins its end junctions unless a valve sits at that end; closed pipes and PRVs
    join nothing (they already separate). Connected components over junctions + pipes.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    node_index = pd.Series(np.arange(len(junctions)), index=junctions["junction_id"])
    n_nodes, n_links = len(junctions), len(pipes)
    link_index = pd.Series(np.arange(n_links), index=pipes["link_id"])
    valved = set(zip(valves["link_id"], valves["node_id"], strict=True))
    joins = (pipes["status"].to_numpy() == "open") & (pipes["role"].to_numpy() != "inlet")
    rows, cols = [], []
    for end in ("start_id", "end_id"):
        ends = pipes[end].to_numpy()
        keep = joins & np.array(
            [(lk, nd) not in valved for lk, nd in zip(pipes["link_id"], ends, strict=True)]
        )
        rows.append(node_index[ends[keep]].to_numpy())
        cols.append(n_nodes + link_index[pipes["link_id"].to_numpy()[keep]].to_numpy())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    size = n_nodes + n_links
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    _, labels = np.unique(labels, return_inverse=True)
    return labels[n_nodes:], labels[:n_nodes]


def build_water_network(city: City, folder: Path) -> dict:
    """Generate, calibrate and write the water network of ``city`` into ``folder``.

    Returns a summary (counts, calibrated balance, seconds).
    """
    started = time.perf_counter()
    pipes, junctions, sources = layout(city)
    sizing_passes = upsize_by_velocity(pipes, junctions, sources)
    coeff, balance = calibrate_leakage(pipes, junctions, sources)
    junctions["emitter_coefficient"] = coeff
    wn = model(pipes, junctions, sources, coeff)
    layer = wntr.network.layer.generate_valve_layer(wn, "strategic", 2, seed=VALVE_SEED)
    layer = layer[layer["link"].isin(pipes["link_id"])].reset_index(drop=True)
    valves = pd.DataFrame({"link_id": layer["link"].to_numpy(), "node_id": layer["node"]})
    pipes["segment"], junctions["segment"] = valve_segments(pipes, junctions, valves)
    valves = _valve_points(valves, pipes)

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "water.inp"
        wntr.network.write_inpfile(wn, str(plain), units="LPS")
        # no name, no timestamp in the gzip header: the same network gives the same bytes
        with (
            open(plain, "rb") as src,
            open(folder / INP_FILE, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as dst,
        ):
            shutil.copyfileobj(src, dst)
    source_rows = gpd.GeoDataFrame(
        {
            "junction_id": [f"RES-{i + 1}" for i in range(len(sources))],
            "node_id": junctions["node_id"].to_numpy()[sources],
            "elevation_m": junctions["elevation_m"].to_numpy()[sources],
            "head_m": source_head(junctions),
            "kind": "reservoir",
        },
        geometry=junctions.geometry.values[sources],
        crs=junctions.crs,
    )
    junctions["kind"] = "junction"
    junctions.to_parquet(folder / JUNCTIONS_FILE)
    pipes.to_crs(4326).to_parquet(folder / PIPES_FILE)
    valves.to_parquet(folder / VALVES_FILE)
    _dma_table(pipes, junctions).to_parquet(folder / DMAS_FILE)
    source_rows.to_parquet(folder / SOURCES_FILE)
    return {
        "junctions": len(junctions),
        "pipes": int((pipes["role"] != "inlet").sum()),
        "prv_inlets": int((pipes["role"] == "inlet").sum()),
        "closed_boundary_valves": int((pipes["status"] == "closed").sum()),
        "isolation_valves": len(valves),
        "segments": int(pipes["segment"].max() + 1),
        "reservoirs": len(sources),
        "dmas": int(junctions.loc[junctions["dma_id"] != "trunk", "dma_id"].nunique()),
        "pipes_enlarged_per_sizing_pass": sizing_passes,
        **{k: round(v, 4) for k, v in balance.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def _valve_points(valves: pd.DataFrame, pipes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Isolation valves drawn 8 m along their pipe from the junction they guard."""
    by_link = pipes.set_index("link_id")
    lines = gpd.GeoSeries(by_link.geometry[valves["link_id"]].values, crs=pipes.crs)
    metric = lines.to_crs(3857)  # only to step a few metres along the line
    at_start = by_link["start_id"][valves["link_id"]].to_numpy() == valves["node_id"].to_numpy()
    # road geometry runs u -> v; PRV inlets may have been flipped, so test the line's ends
    lengths = metric.length.to_numpy()
    offset = np.minimum(8.0, lengths / 3)
    dist = np.where(at_start, offset, lengths - offset)
    points = gpd.GeoSeries(metric.interpolate(dist).values, crs=3857).to_crs(4326)
    return gpd.GeoDataFrame(
        {"valve_id": [f"V{i + 1:05d}" for i in range(len(valves))], **valves},
        geometry=points.values,
        crs=4326,
    )


def _dma_table(pipes: gpd.GeoDataFrame, junctions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per DMA: its H3 cell outline, inlets, population and daily demand."""
    import h3
    import shapely

    dist = junctions[junctions["dma_id"] != "trunk"]
    table = dist.groupby("dma_id").agg(
        population=("population", "sum"), n_junctions=("junction_id", "size")
    )
    inlets = pipes[pipes["role"] == "inlet"].groupby("dma_id").size()
    table["n_inlets"] = inlets.reindex(table.index).fillna(0).astype(int)
    mains = pipes[pipes["role"] != "trunk"].groupby("dma_id")["length_m"].sum() / 1000
    table["pipe_km"] = mains.reindex(table.index).fillna(0.0).round(2)
    table["demand_m3_day"] = (table["population"] * CONSUMPTION_L_PER_DAY / 1000).round(1)
    table["population"] = table["population"].round().astype(int)
    cells = [dma.removeprefix("DMA-") for dma in table.index]
    outlines = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoDataFrame(table.reset_index().assign(cell=cells), geometry=outlines, crs=4326)


def water_dir(city: City) -> Path:
    """Folder of the city's bundle, where its water network files live."""
    return city.folder


@functools.lru_cache(maxsize=4)
def load_water_network(city_name: str) -> WaterNetwork:
    """The stored water network of an embedded city (cached per process)."""
    return read_water_network(city_name, water_dir(load_city(city_name)))


def read_water_network(city_name: str, folder: Path) -> WaterNetwork:
    """Read the water network files of ``city_name`` from ``folder``.

    Raises
    ------
    WaterNetworkError
        If a file is missing, naming it and the command that rebuilds it.
    """
    folder = Path(folder)
    missing = [name for name in WATER_FILES if not (folder / name).is_file()]
    if missing:
        raise WaterNetworkError(
            f"city {city_name!r} has no water network ({', '.join(missing)} missing in "
            f"{folder}); build it with `{REBUILD.format(city=city_name)}`"
        )
    return WaterNetwork(
        city=city_name,
        inp_path=folder / INP_FILE,
        pipes=gpd.read_parquet(folder / PIPES_FILE),
        junctions=gpd.read_parquet(folder / JUNCTIONS_FILE),
        dmas=gpd.read_parquet(folder / DMAS_FILE),
        valves=gpd.read_parquet(folder / VALVES_FILE),
        sources=gpd.read_parquet(folder / SOURCES_FILE),
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m data.water.network [city]``: rebuild and store the city's water network."""
    args = sys.argv[1:] if argv is None else argv
    city = load_city(args[0] if args else "casablanca")
    print(f"building the water network of {city.name} (EPANET calibration runs)...", flush=True)
    summary = build_water_network(city, water_dir(city))
    for key, value in summary.items():
        print(f"  {key}: {value}")


def _bundle_part(city: City, out: Path) -> str:
    summary = build_water_network(city, out)  # EPANET runs: sizing and leakage calibration
    return (
        f"{summary['junctions']:,} junctions, {summary['pipes']:,} pipes, {summary['dmas']} "
        f"DMAs, yield {summary['yield']:.1%}"
    )


# Built beside every bundle (`data.build.parts`; registered in pyproject.toml).
BUNDLE_PART = BundlePart("water network", 2, _bundle_part, "python -m data.water.network {city}")

if __name__ == "__main__":
    main()
