"""Water network layers: pipes by velocity/flow/pressure/age, junctions by pressure, DMAs.

Values come from the stored network (`data.water.network`) and its solved ordinary day
(`simulation.water.hydraulics.baseline_day`); builders return specs and never touch Dash.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pydeck as pdk

from data.city import City
from data.water.model import REQUIRED_PRESSURE_M
from data.water.network import load_water_network
from layers.codec import PackedLayer
from layers.geometry import line_vertices, point_positions, polygon_rings
from layers.hexagons import PALETTE
from layers.lighting.colors import ColorMode, pack_color_modes
from layers.spec import LayerSpec, LegendEntry, path_layer
from simulation.water.hydraulics import HydraulicDay, baseline_day

PIPES_ID, NODES_ID, DMAS_ID = "water-pipes", "water-nodes", "water-dmas"
PEAK_HOUR = 20  # evening peak, local (the day's highest demand with the morning one)
CLOSED_COLOR = (90, 90, 100)
PRV_COLOR = (255, 0, 200)
# Class upper bounds and units per colour mode; colours low -> high on viridis.
VELOCITY_BREAKS = (0.1, 0.3, 0.6, 1.0, 1.5, np.inf)  # m/s at the peak hour
FLOW_BREAKS = (1, 5, 20, 100, 500, np.inf)  # L/s at the peak hour
PRESSURE_BREAKS = (15, 25, 35, 50, 80, np.inf)  # m (pressure head), day mean
AGE_BREAKS = (1975, 1995, 2010, np.inf)  # laid before
AGE_COLORS = ((165, 0, 38), (244, 109, 67), (116, 173, 209), (49, 54, 149))
NIGHT_FLOW_BREAKS = (0.5, 1.0, 1.5, 2.0, 3.0, np.inf)  # m3/h per km of distribution pipe


def classify(values: np.ndarray, breaks, colors=PALETTE) -> np.ndarray:
    """(n, 4) uint8 colours of ``values`` by class upper bounds ``breaks``."""
    palette = np.array([[*c, 255] for c in colors], np.uint8)
    index = np.searchsorted(np.asarray(breaks, float), np.asarray(values, float), side="left")
    return palette[np.minimum(index, len(palette) - 1)]


def class_legend(breaks, unit: str, colors=PALETTE, *, first: str = "under") -> list[dict]:
    """Legend rows of ``classify``: 'under b0', 'b0-b1 unit', ..., 'over bn'."""
    rows, lower = [], None
    for upper, color in zip(breaks, colors, strict=False):
        if lower is None:
            label = f"{first} {upper:g} {unit}"
        elif np.isinf(upper):
            label = f"{lower:g} {unit} and over"
        else:
            label = f"{lower:g}-{upper:g} {unit}"
        rows.append({"label": label, "color": [*color, 255]})
        lower = upper
    return rows


def legend_entries(rows: list[dict]) -> tuple[LegendEntry, ...]:
    """Legend rows ({label, color}) as the spec's entries."""
    return tuple(LegendEntry(r["label"], tuple(r["color"])) for r in rows)


def _pipe_values(city: City, day: HydraulicDay) -> pd.DataFrame:
    net = load_water_network(city.name)
    pipes = net.pipes.set_index("link_id")
    flow = day.flow_m3h.reindex(columns=pipes.index).fillna(0.0)
    velocity = day.velocity_ms.reindex(columns=pipes.index).fillna(0.0)
    pressure = day.pressure_m.mean()
    ends = pd.DataFrame(
        {
            "start": pressure.reindex(pipes["start_id"]).to_numpy(),
            "end": pressure.reindex(pipes["end_id"]).to_numpy(),
        }
    )
    return pd.DataFrame(
        {
            "peak_flow_ls": np.abs(flow.iloc[PEAK_HOUR].to_numpy()) / 3.6,
            "peak_velocity_ms": velocity.iloc[PEAK_HOUR].to_numpy(),
            "mean_pressure_m": ends.mean(axis=1).to_numpy(),
        },
        index=pipes.index,
    )


def pipe_color_modes(city: City, values: pd.DataFrame | None = None) -> dict[str, ColorMode]:
    """Every way to colour the pipes (first: the default); closed valves and PRVs fixed."""
    net = load_water_network(city.name)
    pipes = net.pipes
    if values is None:
        values = _pipe_values(city, baseline_day(city.name))
    fixed = [
        {"label": "PRV (DMA inlet)", "color": [*PRV_COLOR, 255]},
        {"label": "Closed boundary valve", "color": [*CLOSED_COLOR, 255]},
    ]

    def mode(title: str, colors: np.ndarray, legend: list[dict]) -> ColorMode:
        colors = colors.copy()
        colors[pipes["role"].to_numpy() == "inlet"] = [*PRV_COLOR, 255]
        colors[pipes["status"].to_numpy() == "closed"] = [*CLOSED_COLOR, 255]
        return ColorMode(title, f"Water pipes by {title.lower()}", legend + fixed, colors)

    years = pipes["install_year"].to_numpy()
    return {
        "velocity": mode(
            f"Velocity at {PEAK_HOUR}:00",
            classify(values["peak_velocity_ms"], VELOCITY_BREAKS),
            class_legend(VELOCITY_BREAKS, "m/s"),
        ),
        "flow": mode(
            f"Flow at {PEAK_HOUR}:00",
            classify(values["peak_flow_ls"], FLOW_BREAKS),
            class_legend(FLOW_BREAKS, "L/s"),
        ),
        "pressure": mode(
            "Mean pressure",
            classify(values["mean_pressure_m"], PRESSURE_BREAKS),
            class_legend(PRESSURE_BREAKS, "m"),
        ),
        "age": mode(
            "Laying year",
            classify(years, AGE_BREAKS, AGE_COLORS),
            class_legend(AGE_BREAKS, "", AGE_COLORS, first="before"),
        ),
    }


def pipe_layer(city: City) -> LayerSpec:
    """Pipes as paths, coloured by peak-hour velocity; width grows with the bore."""
    net = load_water_network(city.name)
    pipes = net.pipes
    values = _pipe_values(city, baseline_day(city.name)).reindex(pipes["link_id"])
    default = next(iter(pipe_color_modes(city, values).values()))
    vertices, starts = line_vertices(pipes)
    deck_layer = path_layer(PIPES_ID, min_pixels=1)
    kind = pipes["role"].map(
        {
            "trunk": "trunk main",
            "distribution": "distribution pipe",
            "inlet": "PRV inlet",
            "transfer": "transfer pipe",
            "boundary": "boundary valve (closed)",
        }  # fmt: skip
    )
    return LayerSpec(
        id=PIPES_ID,
        title="Water pipes",
        deck_layer=deck_layer,
        length=len(pipes),
        start_indices=starts,
        attributes={
            "getPath": vertices,
            "getColor": default.colors,
            "getWidth": 2.0 + pipes["diameter_mm"].to_numpy(float) / 100,
        },
        fields={
            "link_id": pipes["link_id"],
            "kind": kind,
            "diameter_mm": pipes["diameter_mm"],
            "material": pipes["material"],
            "install_year": pipes["install_year"],
            "length_m": pipes["length_m"].round(1),
            "dma_id": pipes["dma_id"],
            "peak_flow_ls": values["peak_flow_ls"].round(2).to_numpy(),
            "peak_velocity_ms": values["peak_velocity_ms"].round(2).to_numpy(),
            "mean_pressure_m": values["mean_pressure_m"].round(1).to_numpy(),
        },
        tooltip=(
            "Pipe {link_id} · {kind}\n{diameter_mm} mm {material}, laid {install_year}\n"
            f"{{peak_flow_ls}} L/s at {{peak_velocity_ms}} m/s ({PEAK_HOUR}:00) · "
            "{mean_pressure_m} m mean pressure"
        ),
        id_field="link_id",
        legend_title=default.legend_title,
        legend=legend_entries(default.legend),
        visible=False,
    )


def node_layer(city: City) -> LayerSpec:
    """Junctions as dots coloured by their lowest pressure of the day (m)."""
    net = load_water_network(city.name)
    junctions = net.junctions
    day = baseline_day(city.name)
    pressure = day.pressure_m.reindex(columns=junctions["junction_id"])
    lowest, highest = pressure.min().to_numpy(), pressure.max().to_numpy()
    deck_layer = pdk.Layer(
        "ScatterplotLayer",
        id=NODES_ID,
        pickable=True,
        radius_units="'meters'",
        radius_min_pixels=1.5,
        radius_max_pixels=6,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 220],
    )
    return LayerSpec(
        id=NODES_ID,
        title="Water junctions (pressure)",
        deck_layer=deck_layer,
        length=len(junctions),
        attributes={
            "getPosition": point_positions(junctions),
            "getFillColor": classify(lowest, PRESSURE_BREAKS),
            "getRadius": np.full(len(junctions), 6.0, dtype=np.float32),
        },
        fields={
            "junction_id": junctions["junction_id"],
            "dma_id": junctions["dma_id"],
            "elevation_m": junctions["elevation_m"].round(1),
            "population": junctions["population"].round(0),
            "min_pressure_m": np.round(lowest, 1),
            "max_pressure_m": np.round(highest, 1),
        },
        tooltip=(
            "Junction {junction_id} · {dma_id}\nground {elevation_m} m · "
            "pressure {min_pressure_m}-{max_pressure_m} m over the day\n{population} people"
        ),
        id_field="junction_id",
        legend_title=f"Lowest pressure of the day (service needs {REQUIRED_PRESSURE_M:g} m)",
        legend=legend_entries(class_legend(PRESSURE_BREAKS, "m")),
        visible=False,
    )


def dma_flows(city: City, day: HydraulicDay | None = None) -> pd.DataFrame:
    """Per DMA: daily inflow (m3), minimum night flow (m3/h), leakage share, per km of pipe."""
    net = load_water_network(city.name)
    day = day or baseline_day(city.name)
    dma_of = net.junctions.set_index("junction_id")["dma_id"].reindex(day.pressure_m.columns)
    inflow = (day.delivered_m3h + day.leak_m3h).T.groupby(dma_of.to_numpy()).sum().T
    leak = day.leak_m3h.sum().groupby(dma_of.to_numpy()).sum()
    dmas = net.dmas.set_index("dma_id")
    table = pd.DataFrame(index=dmas.index)
    table["inflow_m3_day"] = inflow.sum().reindex(table.index)
    table["night_flow_m3h"] = inflow.min().reindex(table.index)
    table["leakage_share"] = (leak.reindex(table.index) / table["inflow_m3_day"]).fillna(0.0)
    table["night_flow_m3h_km"] = table["night_flow_m3h"] / dmas["pipe_km"].where(
        dmas["pipe_km"] > 0
    )
    return table


def dma_layer(city: City) -> LayerSpec:
    """DMAs (H3 resolution-7 cells) filled by minimum night flow per km of pipe."""
    net = load_water_network(city.name)
    dmas = net.dmas
    flows = dma_flows(city).reindex(dmas["dma_id"])
    vertices, starts = polygon_rings(dmas)
    colors = classify(flows["night_flow_m3h_km"].fillna(0.0).to_numpy(), NIGHT_FLOW_BREAKS)
    colors[:, 3] = 110  # translucent: pipes and streets show through
    deck_layer = pdk.Layer(
        "SolidPolygonLayer",
        id=DMAS_ID,
        pickable=True,
        filled=True,
        extruded=False,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 80],
        _normalize=False,
        _winding_order="'CCW'",
    )
    return LayerSpec(
        id=DMAS_ID,
        title="Water DMAs (night flow)",
        deck_layer=deck_layer,
        length=len(dmas),
        start_indices=starts,
        attributes={"getPolygon": vertices, "getFillColor": colors},
        fields={
            "dma_id": dmas["dma_id"],
            "population": dmas["population"],
            "n_inlets": dmas["n_inlets"],
            "pipe_km": dmas["pipe_km"],
            "inflow_m3_day": flows["inflow_m3_day"].round(0).to_numpy(),
            "night_flow_m3h": flows["night_flow_m3h"].round(1).to_numpy(),
            "night_flow_m3h_km": flows["night_flow_m3h_km"].round(2).to_numpy(),
            "leakage_pct": (flows["leakage_share"] * 100).round(1).to_numpy(),
        },
        tooltip=(
            "{dma_id} · {population} people · {n_inlets} PRV inlets\n"
            "inflow {inflow_m3_day} m³/day · minimum night flow {night_flow_m3h} m³/h "
            "({night_flow_m3h_km} m³/h per km)\nleakage {leakage_pct} % of inflow"
        ),
        id_field="dma_id",
        legend_title="Minimum night flow per km of pipe (leakage indicator)",
        legend=legend_entries(class_legend(NIGHT_FLOW_BREAKS, "m³/h/km")),
        visible=False,
    )


@functools.lru_cache(maxsize=4)
def packed_pipe_colors(city_name: str) -> PackedLayer:
    """The pipes' colour modes, one uint8 RGBA column per mode expanded to path vertices."""
    from data.city import load_city

    city = load_city(city_name)
    modes = pipe_color_modes(city)
    _, starts = line_vertices(load_water_network(city_name).pipes)
    return pack_color_modes(modes, vertex_counts=np.diff(starts.astype(np.int64)))


SOURCES_ID = "water-sources"
SOURCE_COLOR = (30, 120, 220)


def source_layer(city: City) -> LayerSpec:
    """Reservoirs as blue 3D columns standing as high as their water level above ground."""
    net = load_water_network(city.name)
    sources = net.sources
    day = baseline_day(city.name)
    mains = [f"{name}-MAIN" for name in sources["junction_id"]]
    sent = day.flow_m3h.reindex(columns=mains).fillna(0.0).sum().to_numpy()
    head = sources["head_m"].to_numpy(float)
    above = head - sources["elevation_m"].to_numpy()
    deck_layer = pdk.Layer(
        "ColumnLayer",
        id=SOURCES_ID,
        pickable=True,
        extruded=True,
        disk_resolution=16,
        radius=90,
        elevation_scale=1,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 200],
    )
    return LayerSpec(
        id=SOURCES_ID,
        title="Water reservoirs",
        deck_layer=deck_layer,
        length=len(sources),
        attributes={
            "getPosition": point_positions(sources),
            "getElevation": np.maximum(above, 5.0),
            "getFillColor": np.tile(np.array([*SOURCE_COLOR, 255], np.uint8), (len(sources), 1)),
        },
        fields={
            "reservoir_id": sources["junction_id"],
            "ground_m": sources["elevation_m"].round(1),
            "water_level_m": np.round(head, 1),
            "outflow_m3_day": np.round(sent, 0),
        },
        tooltip=(
            "Reservoir {reservoir_id}\nwater level {water_level_m} m (ground {ground_m} m)\n"
            "sends {outflow_m3_day} m³/day"
        ),
        id_field="reservoir_id",
        legend_title="Water reservoirs (column height: water level above ground)",
        legend=(LegendEntry("Reservoir feeding the trunk mains", (*SOURCE_COLOR, 255)),),
        visible=False,
    )
