"""What a traffic run gives, whatever the engine: per road, per H3 cell, and the day's KPIs.

Inputs are an engine's hourly (time, link) Dataset (flow_veh_h, speed_kmh, density_veh_km;
coords segment, length_m — the map's lengths — and free_speed_kmh).

Emissions (assumption): CO2 per vehicle-km from a COPERT-style average-speed curve for the
car fleet, `co2_g_per_km` (about 170 g/km at 50 km/h, twice that in stop-and-go).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from data.city.grid import cells_of
from data.traffic.network import TrafficNetwork

HOURS = 24
CONGESTED_SPEED_SHARE = 0.5  # a link is congested below half its free-flow speed
CELL_RES = 9


def co2_g_per_km(speed_kmh) -> np.ndarray:
    """CO2 per vehicle-km at an average speed (g/km; fuel curve x 3.17 g CO2 per g fuel)."""
    v = np.clip(np.asarray(speed_kmh, float), 5, 130)
    fuel = (217 + 0.253 * v + 0.00965 * v**2) / (1 + 0.096 * v - 0.000421 * v**2)
    return 3.17 * fuel


@dataclass(frozen=True)
class TrafficKpis:
    """A day's headline figures (vehicles, not people; the simulated arterials only)."""

    trips: int  # vehicle trips that reached their destination
    trips_unfinished: int  # still on the road or waiting to enter at the end of the run
    vehicle_km: float
    vehicle_hours: float  # time spent on the links
    delay_veh_h: float  # vehicle-hours over the free-flow time of the same kilometres
    mean_speed_kmh: float  # vehicle-km / vehicle-hours
    congested_link_hours: float  # link-hours below half the free-flow speed
    peak_congested_km: float  # arterial km congested in the worst hour
    co2_t: float


def link_dataset(times, names, segment, length_m, free_kmh, flow, speed, density) -> xr.Dataset:
    """An engine's hourly (time, link) results in the one schema every output reads."""
    dims = ("time", "link")
    return xr.Dataset(
        {
            "flow_veh_h": (dims, flow, {"units": "veh/h", "long_name": "vehicles entering"}),
            "speed_kmh": (dims, speed, {"units": "km/h", "long_name": "mean speed"}),
            "density_veh_km": (dims, density, {"units": "veh/km", "long_name": "density"}),
        },
        coords={
            "time": times,
            "link": names,
            "segment": ("link", np.asarray(segment, np.int64)),
            "length_m": ("link", np.asarray(length_m, float)),
            "free_speed_kmh": ("link", np.asarray(free_kmh, float)),
        },
    )


def road_results(net: TrafficNetwork, links: xr.Dataset) -> xr.Dataset:
    """Both directions of each carried road: flows add, speed is flow-weighted (harmonic)."""
    carried = links.isel(link=np.flatnonzero(links["segment"].to_numpy() >= 0))
    seg = carried["segment"].to_numpy()
    n_seg = len(net.segments)
    flow = carried["flow_veh_h"].to_numpy()
    hours_per_km = flow / np.maximum(carried["speed_kmh"].to_numpy(), 0.1)
    seg_flow = np.zeros((HOURS, n_seg))
    seg_hours = np.zeros((HOURS, n_seg))
    np.add.at(seg_flow, (slice(None), seg), flow)
    np.add.at(seg_hours, (slice(None), seg), hours_per_km)
    free = net.segments["speed_kmh"].to_numpy()
    speed = np.where(seg_hours > 0, seg_flow / np.where(seg_hours > 0, seg_hours, 1), free)
    road_seg = np.repeat(net.segments["segment"].to_numpy(), net.segments["road_ids"].map(len))
    road_ids = np.concatenate(net.segments["road_ids"].map(list).to_numpy())
    return xr.Dataset(
        {
            "flow_veh_h": (("time", "road"), seg_flow[:, road_seg], {"units": "veh/h"}),
            "speed_kmh": (("time", "road"), speed[:, road_seg], {"units": "km/h"}),
        },
        coords={
            "time": links["time"].to_numpy(),
            "road": road_ids,
            "segment": ("road", road_seg),
            "free_speed_kmh": ("road", free[road_seg]),
        },
    )


def day_kpis(links: xr.Dataset, trips: int, unfinished: int) -> TrafficKpis:
    """The day's KPIs from its (time, link) results and the engine's trip counts."""
    flow = links["flow_veh_h"].to_numpy()
    speed = np.maximum(links["speed_kmh"].to_numpy(), 0.1)
    km = links["length_m"].to_numpy() / 1000
    free = links["free_speed_kmh"].to_numpy()
    vkm = flow * km
    vh = vkm / speed
    congested = speed < CONGESTED_SPEED_SHARE * free
    return TrafficKpis(
        trips=trips,
        trips_unfinished=unfinished,
        vehicle_km=float(vkm.sum()),
        vehicle_hours=float(vh.sum()),
        delay_veh_h=float((vh - vkm / free).sum()),
        mean_speed_kmh=float(vkm.sum() / vh.sum()),
        congested_link_hours=float(congested.sum()),
        peak_congested_km=float((congested * km).sum(axis=1).max() / 2),
        co2_t=float((vkm * co2_g_per_km(speed)).sum() / 1e6),
    )


def cell_cube(town, roads: xr.Dataset) -> xr.Dataset:
    """(time, cell) vehicle-km, delay and speed at `CELL_RES` from the (time, road) results."""
    frame = town.roads.set_index("road_id").loc[roads["road"].to_numpy()]
    mid = frame.geometry.to_crs(town.crs_metric).interpolate(0.5, normalized=True).to_crs(4326)
    cell = cells_of(mid.x.to_numpy(), mid.y.to_numpy(), CELL_RES)
    cells, where = np.unique(cell, return_inverse=True)
    km = frame["length_m"].to_numpy() / 1000
    flow = roads["flow_veh_h"].to_numpy()
    vkm = flow * km
    vh = vkm / np.maximum(roads["speed_kmh"].to_numpy(), 0.1)
    delay = vh - vkm / roads["free_speed_kmh"].to_numpy()

    def per_cell(values):
        out = np.zeros((HOURS, len(cells)))
        np.add.at(out, (slice(None), where), values)
        return out

    cell_vkm, cell_vh = per_cell(vkm), per_cell(vh)
    speed = np.where(cell_vh > 0, cell_vkm / np.where(cell_vh > 0, cell_vh, 1), np.nan)
    dims = ("time", "cell")
    return xr.Dataset(
        {
            "vehicle_km": (dims, cell_vkm, {"units": "veh km/h", "long_name": "vehicle-km"}),
            "delay_veh_h": (dims, per_cell(delay), {"units": "veh h/h", "long_name": "delay"}),
            "speed_kmh": (dims, speed, {"units": "km/h", "long_name": "mean speed"}),
        },
        coords={"time": roads["time"].to_numpy(), "cell": cells},
        attrs={"h3_resolution": CELL_RES},
    )


def with_change(cube: xr.Dataset, today: xr.Dataset) -> xr.Dataset:
    """The cube plus ``delay_change_veh_h``: its delay minus the ordinary day's, per cell."""
    cells = np.union1d(cube["cell"].to_numpy(), today["cell"].to_numpy())
    mine = cube["delay_veh_h"].reindex(cell=cells, fill_value=0.0)
    theirs = today["delay_veh_h"].reindex(cell=cells, fill_value=0.0)
    change = (mine - theirs).assign_attrs(units="veh h/h", long_name="delay change vs today")
    return cube.reindex(cell=cells).assign(delay_change_veh_h=change)
