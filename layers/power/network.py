"""Electricity network layers: MV lines coloured by their evening-peak loading, and stations.

Builds deck.gl specs from the stored network (`data.power.network`) and its load flow at
20:00 (`simulation.power.load_flow`); never touches Dash, and never builds or writes the network.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

import data.city
from data.city import City
from data.power.network import POWER_FACTOR, PowerNetwork, load_power_network
from layers.geometry import line_vertices, polygon_rings
from layers.spec import LayerSpec, LegendEntry, path_layer

LINE_LAYER_ID = "power-lines"
STATION_LAYER_ID = "power-stations"
PEAK_HOUR = 20  # local hour of the evening peak the lines are coloured at
# Loading classes (upper bound in %, label, colour), shared by lines (% of the cables'
# thermal rating) and transformers (% of rated kVA). Green to red with lightness falling
# class by class, so the order still reads under deuteranopia and protanopia.
LOADING_CLASSES: tuple[tuple[float, str, tuple[int, int, int]], ...] = (
    (40.0, "under 40 %", (120, 198, 121)),
    (60.0, "40–60 %", (230, 171, 2)),
    (80.0, "60–80 %", (232, 110, 28)),
    (100.0, "80–100 %", (196, 30, 42)),
    (float("inf"), "over 100 % (overloaded)", (110, 12, 60)),
)
NO_RESULT_COLOR = (200, 200, 200, 255)  # a section the load flow has no result for
TIE_COLOR = (140, 140, 150, 200)  # neutral and see-through: a tie carries nothing while open
TIE_LABEL = "normally-open tie"
SUBSTATION_COLOR = (0, 114, 178)  # Okabe & Ito blue: outside the loading ramp
SUBSTATION_LABEL = "60/20 kV substation (height: 0.5 m per MVA)"
# Drawing sizes (metres): a section is as wide as its cables bundled, exaggerated to be
# seen from city zoom; an open tie is thin.
WIDTH_PER_CABLE_M = 5.0
TIE_WIDTH_M = 3.0
# Stations are drawn as 12-sided extruded columns, like deck.gl's ColumnLayer with
# ``diskResolution=12``; polygons rather than a ColumnLayer because its radius is one value
# per layer, and substations must be wider than transformers.
DISK_RESOLUTION = 12
TRANSFORMER_RADIUS_M = 12.0
SUBSTATION_RADIUS_M = 60.0
TRANSFORMER_M_PER_KVA = 0.05  # 400 kVA stands 20 m, 1000 kVA 50 m
SUBSTATION_M_PER_MVA = 0.5  # 40 MVA stands 20 m, 360 MVA 180 m: seen, not dwarfing the city
MATERIAL = {"ambient": 0.5, "diffuse": 0.6, "shininess": 32, "specularColor": [60, 60, 60]}


def loading_colors(loading_pct: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 colours of the `LOADING_CLASSES` of ``loading_pct`` (%; NaN: grey).

    A value on a class bound belongs to the lower class (80 % is "60–80 %").
    """
    values = np.asarray(loading_pct, dtype=float)
    bounds = np.array([upper for upper, _, _ in LOADING_CLASSES])
    palette = np.array([(*color, 255) for _, _, color in LOADING_CLASSES], dtype=np.uint8)
    index = np.searchsorted(bounds, np.nan_to_num(values, nan=0.0), side="left")
    colors = palette[np.minimum(index, len(palette) - 1)]
    colors[np.isnan(values)] = NO_RESULT_COLOR
    return colors


def peak_line_loading(city: City) -> pd.Series:
    """Loading (% of thermal rating) of each MV section at `PEAK_HOUR`, by line_id.

    From `simulation.power.load_flow.load_flow`, run once per city and process (about a second).
    """
    return _peak_line_loading(city.name, str(city.folder)).copy()


@functools.lru_cache(maxsize=4)
def _peak_line_loading(name: str, bundle_dir: str) -> pd.Series:
    from simulation.power.load_flow import load_flow  # pandapower: only when the layer is built

    default = not bundle_dir or Path(bundle_dir) == data.city.bundle_dir(name)
    city = data.city.load_city(name, bundle_dir=None if default else Path(bundle_dir))
    return load_flow(city, hour=PEAK_HOUR).lines["loading_pct"]


def feeder_layer(city: City) -> LayerSpec:
    """MV sections and normally-open ties as a PathLayer (width in metres, min 1.5 px).

    Sections are coloured by their loading at the 20:00 evening peak (`LOADING_CLASSES`) and
    drawn `WIDTH_PER_CABLE_M` wide per parallel cable; open ties are thin and grey, and
    report 0 % (no current flows through an open switch).
    """
    net = load_power_network(city)
    lines = net.lines
    vertices, starts = line_vertices(lines)
    tie = lines["normally_open"].to_numpy(dtype=bool)
    loading = peak_line_loading(city).reindex(lines["line_id"]).to_numpy(dtype=float)
    loading = loading.round(1)  # coloured as shown: 60.04 % reads "60.0" and is "40–60 %"
    loading[tie] = 0.0
    colors = loading_colors(loading)
    colors[tie] = TIE_COLOR
    n_parallel = lines["n_parallel"].to_numpy()
    deck_layer = path_layer(LINE_LAYER_ID, min_pixels=1.5, highlight_alpha=220)
    return LayerSpec(
        id=LINE_LAYER_ID,
        title="Electricity lines (20 kV)",
        deck_layer=deck_layer,
        length=len(lines),
        start_indices=starts,
        attributes={
            "getPath": vertices,
            "getColor": colors,
            "getWidth": np.where(tie, TIE_WIDTH_M, WIDTH_PER_CABLE_M * n_parallel),
        },
        fields={
            "line_id": lines["line_id"],
            "feeder_id": lines["feeder_id"],
            "kind": np.where(tie, TIE_LABEL, "MV section"),
            "length_m": lines["length_m"].to_numpy(dtype=float).round(),
            "loading_pct": loading,
            "n_parallel": n_parallel,
            "normally_open": tie,
        },
        tooltip=f"MV line {{line_id}} · feeder {{feeder_id}} ({{kind}})\n"
        f"{{loading_pct}} % loaded at {PEAK_HOUR}:00 · {{length_m}} m · "
        "{n_parallel} cable(s)",
        id_field="line_id",
        legend_title=f"20 kV lines: loading at {PEAK_HOUR}:00 (% of cable rating; "
        f"width: {WIDTH_PER_CABLE_M:g} m per parallel cable)",
        legend=(
            *(LegendEntry(label, color) for _, label, color in LOADING_CLASSES),
            LegendEntry(TIE_LABEL, TIE_COLOR),
        ),
        visible=False,
    )


def station_table(net: PowerNetwork) -> pd.DataFrame:
    """Substations then transformers, one row each, with the station layer's fields.

    Utilisation is the peak apparent power (``peak_load_kw`` / `POWER_FACTOR`) over the rated
    kVA, in % to one decimal; a substation's load, customers, buildings and lamps are its
    transformers' sums.
    """
    tr, subs = net.transformers, net.substations
    per_sub = tr.groupby("substation_id")[
        ["peak_load_kw", "n_customers", "n_buildings", "n_lamps"]
    ].sum()
    per_sub = per_sub.reindex(subs["substation_id"]).fillna(0)
    frame = pd.DataFrame(
        {
            "station_id": pd.concat([subs["substation_id"], tr["transformer_id"]]).to_numpy(),
            "kind": ["substation"] * len(subs) + ["transformer"] * len(tr),
            "name": [*subs["name"], *["MV/LV transformer 20/0.4 kV"] * len(tr)],
            "feeder_id": [""] * len(subs) + list(tr["feeder_id"]),
            "feeders": [f"{n} feeders" for n in subs["n_feeders"]]
            + [f"feeder {f}" for f in tr["feeder_id"]],
            "capacity_kva": np.concatenate(
                [subs["capacity_mva"].to_numpy() * 1000, tr["capacity_kva"].to_numpy()]
            ).astype(np.int64),
            **{
                name: np.concatenate([per_sub[name].to_numpy(), tr[name].to_numpy()])
                for name in ("peak_load_kw", "n_customers", "n_buildings", "n_lamps")
            },
        }
    )
    for name in ("n_customers", "n_buildings", "n_lamps"):
        frame[name] = frame[name].astype(np.int64)
    use = frame["peak_load_kw"] / POWER_FACTOR / frame["capacity_kva"] * 100
    frame["utilisation_pct"] = use.round(1)  # coloured as shown in the tooltip
    frame["geometry"] = np.concatenate([subs.geometry.values, tr.geometry.values])
    return frame


def station_layer(city: City) -> LayerSpec:
    """Substations and MV/LV transformers as extruded 12-sided columns (metres).

    Height grows with rated capacity (`TRANSFORMER_M_PER_KVA`, `SUBSTATION_M_PER_MVA`);
    transformers are coloured by peak utilisation (`LOADING_CLASSES`), substations blue.
    """
    table = station_table(load_power_network(city))
    substation = (table["kind"] == "substation").to_numpy()
    radius = np.where(substation, SUBSTATION_RADIUS_M, TRANSFORMER_RADIUS_M)
    centres = gpd.GeoSeries(table["geometry"].to_numpy(), crs=4326).to_crs(city.crs_metric)
    discs = shapely.buffer(centres.values, radius, quad_segs=DISK_RESOLUTION // 4)
    footprints = gpd.GeoDataFrame(geometry=gpd.GeoSeries(discs, crs=city.crs_metric).to_crs(4326))
    vertices, starts = polygon_rings(footprints)
    capacity = table["capacity_kva"].to_numpy(dtype=float)
    elevation = np.where(
        substation, capacity / 1000 * SUBSTATION_M_PER_MVA, capacity * TRANSFORMER_M_PER_KVA
    )
    colors = loading_colors(table["utilisation_pct"].to_numpy())
    colors[substation] = (*SUBSTATION_COLOR, 255)
    deck_layer = pdk.Layer(
        "SolidPolygonLayer",
        id=STATION_LAYER_ID,
        pickable=True,
        extruded=True,
        wireframe=False,
        material=MATERIAL,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 220],
        _normalize=False,
        _winding_order="'CCW'",
    )
    return LayerSpec(
        id=STATION_LAYER_ID,
        title="Substations and transformers",
        deck_layer=deck_layer,
        length=len(table),
        start_indices=starts,
        attributes={"getPolygon": vertices, "getElevation": elevation, "getFillColor": colors},
        fields={
            "station_id": table["station_id"],
            "kind": table["kind"],
            "name": table["name"],
            "feeder_id": table["feeder_id"],
            "feeders": table["feeders"],
            "capacity_kva": table["capacity_kva"],
            "peak_load_kw": table["peak_load_kw"].round(),
            "utilisation_pct": table["utilisation_pct"],
            "n_customers": table["n_customers"],
            "n_buildings": table["n_buildings"],
            "n_lamps": table["n_lamps"],
        },
        tooltip="{name} {station_id} · {feeders}\n{capacity_kva} kVA rated · peak "
        "{peak_load_kw} kW ({utilisation_pct} % of rating)\n{n_customers} customers · "
        "{n_buildings} buildings · {n_lamps} light points",
        id_field="station_id",
        legend_title="MV/LV transformers: peak use (% of rated kVA; height: "
        f"{TRANSFORMER_M_PER_KVA * 100:g} cm per kVA)",
        legend=(
            *(LegendEntry(label, color) for _, label, color in LOADING_CLASSES),
            LegendEntry(SUBSTATION_LABEL, SUBSTATION_COLOR),
        ),
        visible=False,
    )
