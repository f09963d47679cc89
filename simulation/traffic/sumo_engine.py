"""Eclipse SUMO, the high-fidelity alternative to the UXsim engine: same network and demand.

The arterial network (`data.traffic.network`) becomes a SUMO network (`sumo_network`): one
junction per node at its metric x/y, one edge per directed link with the link's name, lanes,
speed and map length; junctions that end a signalised link get SUMO's default fixed-time
signal plan (netconvert's, 90 s cycle), the others priority rules by road class. `run_sumo`
draws the same hourly zone matrices (`data.traffic.demand`) as individual vehicles (UXsim
moves them in platoons of `simulation.traffic.uxsim_engine.PLATOON`), lets SUMO route them junction
to junction on travel times it re-measures as it runs (dynamic user optimum, as UXsim's route
choice) and returns hourly link flows, speeds and densities in the schema of
`simulation.traffic.uxsim_engine.TrafficResult.links`, so the two engines' results compare link by
link.

Two SUMO models: mesoscopic (``mesoscopic=True``, queues per edge segment; signals as a
green-split penalty on headways and the expected red wait on travel times) and microscopic
(car following, lane changing, actual signal phases). Measured on Casablanca
(``benchmarks/traffic_engines.py``, idle 2-core machine; UXsim's whole day: 8 s): meso 07-09 h
67 s; meso day at half demand 93 s, at full demand over 5 min (the morning peak jams: SUMO's
signals cost more than UXsim's `GREEN_SHARE` capacity, so the same demand is more congested);
micro ~20 s per simulated hour of 6,000-7,000 vehicles, ~2 h for a day (extrapolated).

Scenario support: ``closed_roads`` (all lanes closed, or ``lanes_open`` left per direction,
between ``closure_from_h`` and ``closure_to_h``: a SUMO rerouter closes the edges or lanes for
that window, routes avoid them) and ``demand_growth_pct``. ``new_link``, ``corridor_roads``
and its signal and bus-lane measures raise `NotImplementedError`; ``emergency_route`` does not
change the engine run (`TrafficScenario.engine_part`) and is ignored.

Needs the ``eclipse-sumo`` wheel (binaries ``sumo`` and ``netconvert``), or ``SUMO_HOME``.
The wheel's ``sumo`` package is not imported (importing it sets ``PROJ_LIB``/``PROJ_DATA`` to
its own PROJ data for the whole process, which the geospatial libraries would then read); its
folder is found with `importlib.util.find_spec`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import xarray as xr

import data.city
from data.errors import SumoError
from data.traffic.demand import demand
from data.traffic.network import TrafficNetwork, traffic_network
from simulation.traffic.outputs import link_dataset
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import HOURS, hour_times, zone_nodes

# Seconds any one SUMO binary may run before it is stopped (a mesoscopic day of Casablanca:
# 1.5 min at half demand, ~7 min at full demand, extrapolated; microscopic: hours).
TIMEOUT_S = 1800
ROUTE_UPDATE_S = 600  # vehicles re-route every 10 min on measured times, as UXsim's DUO update
# Routes: A* (same routes as SUMO's default Dijkstra, measured ~15% less CPU at the peak).
PERIOD_S = 3600  # edgeData aggregation: one row per hour, the UXsim result's time step
# Assumption: a link shorter than one car and its gap (SUMO's passenger car: 5 m + 2.5 m) is
# lengthened to it, so a vehicle fits; the result keeps the map's length (as UXsim).
MIN_LENGTH_M = 7.5
# Mesoscopic signals (SUMO options): headways scaled by cycle / green and the expected red wait
# added to travel times, from each junction's plan; 1 = the plan's full effect. Sensitivity
# (07:00-08:00 from empty roads, network mean speed): 30 km/h; headways only 32; no signal
# effect 56 (UXsim 48). Actual phases (--meso-junction-control): 21 km/h and twice the time.
MESO_TLS_PENALTY = 1.0
# Mesoscopic queue segments (SUMO default 98 m): 200 m is about UXsim's cell (free speed x 10 s
# step) and runs the peak ~1.5x faster than 98 m with the same trip times (measured, +-3%).
MESO_SEGMENT_M = 200.0
# Right of way at unsignalised junctions: the higher road class is the major road.
_PRIORITY = {"motorway": 13, "trunk": 12, "primary": 11, "secondary": 10}
_UNSUPPORTED = ("new_link", "corridor_roads", "corridor_green_share", "bus_lane")


def sumo_binary(name: str) -> Path:
    """Path of a SUMO binary (``sumo``, ``netconvert``): the wheel's, ``SUMO_HOME``'s or PATH's.

    Raises
    ------
    SumoError
        Neither the ``eclipse-sumo`` wheel, ``$SUMO_HOME/bin`` nor PATH has it.
    """
    spec = importlib.util.find_spec("sumo")
    homes = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    if os.environ.get("SUMO_HOME"):
        homes.append(Path(os.environ["SUMO_HOME"]))
    for home in homes:
        if (home / "bin" / name).is_file():
            return home / "bin" / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise SumoError(f"SUMO binary {name!r} not found: pip install eclipse-sumo, or set SUMO_HOME")


def _call(args: list, timeout_s: float) -> subprocess.CompletedProcess:
    """Run a SUMO binary; `SumoError` with the command and its stderr tail if it fails."""
    cmd = [str(a) for a in args]
    env = {**os.environ, "SUMO_HOME": str(Path(cmd[0]).parent.parent)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired as err:
        tail = (err.stderr or b"")[-2000:]
        tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        raise SumoError(f"{' '.join(cmd)} ran over {timeout_s:.0f} s; stderr: {tail}") from None
    if done.returncode != 0:
        raise SumoError(
            f"{' '.join(cmd)} exited with {done.returncode}; stderr: {done.stderr[-2000:]}"
        )
    return done


def sumo_network(net: TrafficNetwork, workdir: str | Path, *, timeout_s: float = TIMEOUT_S) -> Path:
    """Write the network as SUMO plain XML and convert it; returns the ``.net.xml`` path.

    Parameters
    ----------
    net
        The arterial network. Node ids become junction ids, link names edge ids (kept as
        they are: no junction joining, no geometry guessing, no ramps or signals guessed).
    workdir
        Folder for ``arterials.nod.xml``, ``arterials.edg.xml`` and ``arterials.net.xml``.
    timeout_s
        Seconds netconvert may take.

    Returns
    -------
    Path
        The SUMO network. U-turns only at dead ends; no internal junction links (vehicles
        jump across junctions: faster, and the links' lengths are the map's).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    links = net.links
    signal_ends = set(links.loc[links["signalised"], "end"])
    nodes = [
        f'<node id="{n.node_id}" x="{n.x:.2f}" y="{n.y:.2f}" '
        f'type="{"traffic_light" if n.node_id in signal_ends else "priority"}"/>'
        for n in net.nodes.itertuples(index=False)
    ]
    road_class = net.segments["road_class"].to_numpy()[links["segment"].to_numpy()]
    edges = [
        f'<edge id="{lk.link}" from="{lk.start}" to="{lk.end}" numLanes="{lk.lanes}" '
        f'speed="{lk.speed_kmh / 3.6:.3f}" length="{max(lk.length_m, MIN_LENGTH_M):.2f}" '
        f'priority="{_PRIORITY.get(cls, 10)}"/>'
        for lk, cls in zip(links.itertuples(index=False), road_class, strict=True)
    ]
    nod, edg = workdir / "arterials.nod.xml", workdir / "arterials.edg.xml"
    nod.write_text("<nodes>\n" + "\n".join(nodes) + "\n</nodes>\n")
    edg.write_text("<edges>\n" + "\n".join(edges) + "\n</edges>\n")
    out = workdir / "arterials.net.xml"
    _call(
        [sumo_binary("netconvert"), "--node-files", nod, "--edge-files", edg,
         "--output-file", out, "--no-turnarounds.except-deadend", "--offset.disable-normalization",
         "--no-internal-links", "--junctions.join", "false", "--tls.guess", "false",
         "--ramps.guess", "false", "--geometry.remove", "false", "--no-warnings"],
        timeout_s,
    )  # fmt: skip
    return out


def run_sumo(
    city: str | data.city.City,
    scenario: TrafficScenario | None = None,
    *,
    mesoscopic: bool = True,
    hours: int = HOURS,
    start_h: int = 0,
    warmup_h: int = 0,
    demand_share: float = 1.0,
    workdir: str | Path | None = None,
    timeout_s: float = TIMEOUT_S,
) -> xr.Dataset:
    """Simulate hours of the scenario's day on SUMO; (time, link) as UXsim's ``result.links``.

    Parameters
    ----------
    city
        City name or loaded city.
    scenario
        What-if (default: the ordinary day). Supported: ``closed_roads`` (with
        ``lanes_open`` and the closure hours) and ``demand_growth_pct``.
    mesoscopic
        SUMO's mesoscopic model (queues per edge); False: microscopic (car following).
    hours, start_h
        Report local hours ``start_h`` to ``start_h + hours`` (the day's hours, 0-24).
    warmup_h
        Hours simulated before ``start_h`` (their trips loaded) but not reported, so the
        first reported hour starts on loaded roads.
    demand_share
        Share of the day's trips simulated (after ``demand_growth_pct``); flows are not
        scaled back.
    workdir
        Folder for SUMO's inputs and outputs, kept for inspection; default: a temporary one,
        deleted afterwards.
    timeout_s
        Seconds each SUMO binary may run (`SumoError` beyond).

    Returns
    -------
    xr.Dataset
        flow_veh_h (vehicles entering or departing on the link in the hour), speed_kmh (mean
        speed of the vehicles on it; its free speed when empty), density_veh_km; coords time
        (UTC, as `simulation.traffic.uxsim_engine`), link, segment, length_m (map), free_speed_kmh.
        Attrs: engine; vehicles (trips written), inserted, arrived, and at the end running and
        waiting (to enter); teleports (vehicles SUMO moved out of a jam after 300 s);
        mean_trip_min (arrived trips); build_s, simulate_s, total_s (wall seconds).

    Raises
    ------
    NotImplementedError
        The scenario uses a field this engine does not model (named).
    SumoError
        A SUMO binary failed or ran over ``timeout_s``.
    """
    started = time.perf_counter()
    scenario = scenario or TrafficScenario()
    town = data.city.load_city(city) if isinstance(city, str) else city
    net = traffic_network(town)
    scenario.validate(net)
    default = TrafficScenario()
    unsupported = [f for f in _UNSUPPORTED if getattr(scenario, f) != getattr(default, f)]
    if unsupported:
        raise NotImplementedError(f"run_sumo does not model {', '.join(unsupported)}")
    if not (0 <= warmup_h <= start_h and hours >= 1 and start_h + hours <= HOURS):
        raise ValueError(f"hours {start_h - warmup_h}-{start_h + hours} outside the day 0-24")
    if workdir is None:
        scratch = tempfile.TemporaryDirectory(prefix="madina-sumo-")
    else:
        scratch = contextlib.nullcontext(workdir)
    with scratch as where:
        folder = Path(where)
        folder.mkdir(parents=True, exist_ok=True)
        net_file = sumo_network(net, folder, timeout_s=timeout_s)
        first, end = start_h - warmup_h, start_h + hours
        vehicles = _write_trips(folder / "trips.xml", net, town, scenario, first, end, demand_share)
        _write_additional(folder / "additional.xml", net, scenario, start_h * 3600, end * 3600)
        built = time.perf_counter()
        cmd = [
            sumo_binary("sumo"), "--net-file", net_file, "--route-files", folder / "trips.xml",
            "--additional-files", folder / "additional.xml",
            "--begin", first * 3600, "--end", end * 3600, "--seed", scenario.seed % 2**31,
            "--junction-taz", "--ignore-route-errors", "--no-step-log", "--no-warnings",
            "--device.rerouting.probability", 1, "--device.rerouting.period", ROUTE_UPDATE_S,
            "--routing-algorithm", "astar",
            "--statistic-output", folder / "statistics.xml", "--duration-log.statistics",
        ]  # fmt: skip
        if mesoscopic:
            cmd += ["--mesosim", "--meso-edgelength", MESO_SEGMENT_M,
                    "--meso-tls-penalty", MESO_TLS_PENALTY,
                    "--meso-tls-flow-penalty", MESO_TLS_PENALTY]  # fmt: skip
        _call(cmd, timeout_s)
        simulated = time.perf_counter()
        links = _edge_data(folder / "edgedata.xml", net, start_h, hours)
        stats = _statistics(folder / "statistics.xml")
    times = hour_times(town, scenario.day)[start_h:end]
    return links.assign_coords(time=times).assign_attrs(
        engine=f"SUMO {'mesoscopic' if mesoscopic else 'microscopic'}",
        vehicles=vehicles,
        **stats,
        build_s=round(built - started, 2),
        simulate_s=round(simulated - built, 2),
        total_s=round(time.perf_counter() - started, 2),
    )


def _closed(net: TrafficNetwork, scenario: TrafficScenario) -> np.ndarray:
    """Whether each link is under the scenario's works (the whole segment of a closed road)."""
    if not scenario.closed_roads:
        return np.zeros(len(net.links), bool)
    return np.isin(net.links["segment"], net.road_segment(scenario.closed_roads))


def _write_trips(path, net, town, scenario, first_h, end_h, share) -> int:
    """Vehicles of the hours' matrices, junction to junction, in departure order; how many.

    As `simulation.traffic.uxsim_engine._add_demand`, vehicle by vehicle: Poisson counts per hour
    and zone pair, a junction of each zone at random, uniform departures within the hour; trips that
    would start and end at one junction are dropped. Trips leaving while roads are closed, from
    or to a junction of the works, start or end on its open links (zones ``w<node>`` of
    `_write_additional`; SUMO would otherwise let them depart on a closed link); those from or
    to a junction with no open link are dropped. (A trip that left before the closure keeps
    its destination links.)
    """
    dem = demand(town)
    rng = np.random.default_rng(scenario.seed)
    nodes = zone_nodes(net, dem)
    factor = (1 + scenario.demand_growth_pct / 100) * share
    count = rng.poisson(dem.trips[first_h:end_h] * factor)
    hour, orig, dest = np.nonzero(count)
    reps = count[hour, orig, dest]
    hour, orig, dest = (np.repeat(a, reps) for a in (hour, orig, dest))
    depart = (first_h + hour + rng.random(len(hour))) * 3600

    def junction(zones: np.ndarray) -> np.ndarray:
        pick = rng.integers(0, 1 << 30, len(zones))
        return np.array([nodes[z][i % len(nodes[z])] for z, i in zip(zones, pick, strict=True)])

    o_node, d_node = junction(orig), junction(dest)
    o_attr = np.char.add('fromJunction="', o_node.astype(str))
    d_attr = np.char.add('toJunction="', d_node.astype(str))
    keep = o_node != d_node
    closed = _closed(net, scenario)
    if closed.any() and scenario.lanes_open == 0:
        during = (depart >= scenario.closure_from_h * 3600) & (
            depart < scenario.closure_to_h * 3600
        )
        for side, attr, node, end in ((0, o_attr, o_node, "start"), (1, d_attr, d_node, "end")):
            shut = _works_junctions(net, closed, end)
            hit = during & np.isin(node, list(shut))
            attr[hit] = np.char.add(('fromTaz="w', 'toTaz="w')[side], node[hit].astype(str))
            keep &= ~(hit & np.isin(node, [n for n, open_ in shut.items() if not open_]))
    keep = np.flatnonzero(keep)
    keep = keep[np.argsort(depart[keep], kind="stable")]
    with open(path, "w") as out:
        out.write("<routes>\n")
        out.writelines(
            f'<trip id="{i}" depart="{t:.1f}" {o}" {d}" departLane="best" departSpeed="max"/>\n'
            for i, (o, d, t) in enumerate(
                zip(o_attr[keep], d_attr[keep], depart[keep], strict=True)
            )
        )
        out.write("</routes>\n")
    return len(keep)


def _works_junctions(net: TrafficNetwork, closed: np.ndarray, end: str) -> dict[int, list[str]]:
    """Junctions at the ``end`` ("start" or "end") of closed links -> their open links there."""
    links = net.links
    return {
        int(node): list(links.loc[(links[end] == node).to_numpy() & ~closed, "link"])
        for node in np.unique(links.loc[closed, end])
    }


def _write_additional(path, net: TrafficNetwork, scenario: TrafficScenario, begin_s, end_s):
    """Hourly edgeData from ``begin_s``; the works' rerouter (closing edges or lanes) and zones.

    Zones ``w<node>`` (closures only): a junction of the works with its open links as
    sources (links leaving it) and sinks (links entering it).
    """
    parts = [
        f'<edgeData id="hourly" file="edgedata.xml" period="{PERIOD_S}" begin="{begin_s}" '
        f'end="{end_s}" writeAttributes="sampledSeconds entered departed speed density"/>'
    ]
    closed = _closed(net, scenario)
    if not closed.any():
        Path(path).write_text("<additional>\n" + parts[0] + "\n</additional>\n")
        return
    closes = []
    for lk in net.links[closed].itertuples(index=False):
        if scenario.lanes_open == 0:
            closes.append(f'<closingReroute id="{lk.link}"/>')
        else:  # lanes are numbered from the kerb: the kerb lanes close, the inner ones stay
            closes += [
                f'<closingLaneReroute id="{lk.link}_{lane}"/>'
                for lane in range(max(0, lk.lanes - scenario.lanes_open))
            ]
    if closes:  # every edge triggers it: any vehicle whose route crosses the works re-routes
        parts.append(
            f'<rerouter id="works" edges="{" ".join(net.links["link"])}">'
            f'<interval begin="{scenario.closure_from_h * 3600:.0f}" '
            f'end="{scenario.closure_to_h * 3600:.0f}">'
            + "".join(closes)
            + "</interval></rerouter>"
        )
    if scenario.lanes_open == 0:
        sources = _works_junctions(net, closed, "start")
        sinks = _works_junctions(net, closed, "end")
        for node in sorted(set(sources) | set(sinks)):
            edges = [f'<tazSource id="{e}" weight="1"/>' for e in sources.get(node, [])]
            edges += [f'<tazSink id="{e}" weight="1"/>' for e in sinks.get(node, [])]
            parts.append(f'<taz id="w{node}">' + "".join(edges) + "</taz>")
    Path(path).write_text("<additional>\n" + "\n".join(parts) + "\n</additional>\n")


def _edge_data(path: Path, net: TrafficNetwork, start_h: int, hours: int) -> xr.Dataset:
    """The edgeData intervals as a (time, link) Dataset (time: positions, set by the caller)."""
    names = net.links["link"].to_numpy()
    column = {name: j for j, name in enumerate(names)}
    free = net.links["speed_kmh"].to_numpy(float)
    flow = np.zeros((hours, len(names)))
    speed = np.tile(free, (hours, 1))  # an empty link: free speed, as UXsim reports it
    density = np.zeros((hours, len(names)))
    for _, interval in ET.iterparse(path):
        if interval.tag != "interval":
            continue
        row = int(round(float(interval.get("begin")) / PERIOD_S)) - start_h
        for edge in interval.iter("edge"):
            j = column.get(edge.get("id"))
            if j is None or not 0 <= row < hours:
                continue
            flow[row, j] = float(edge.get("entered", 0)) + float(edge.get("departed", 0))
            density[row, j] = float(edge.get("density", 0))
            if edge.get("speed") is not None:
                speed[row, j] = float(edge.get("speed")) * 3.6
        interval.clear()
    return link_dataset(
        np.arange(hours), names, net.links["segment"], net.links["length_m"], free,
        flow, speed, density,
    )  # fmt: skip


def _statistics(path: Path) -> dict:
    """Loaded, inserted, arrived and teleported vehicles from SUMO's statistic output."""
    root = ET.parse(path).getroot()
    vehicles = root.find("vehicles")
    teleports = root.find("teleports")
    trips = root.find("vehicleTripStatistics")
    return {
        "inserted": int(vehicles.get("inserted", 0)),
        "running": int(vehicles.get("running", 0)),
        "waiting": int(vehicles.get("waiting", 0)),
        "arrived": int(trips.get("count", 0)) if trips is not None else 0,
        "teleports": int(teleports.get("total", 0)) if teleports is not None else 0,
        "mean_trip_min": round(float(trips.get("duration", 0)) / 60, 1) if trips is not None else 0,
    }
