"""Traffic what-ifs as one validated value: works, demand growth, a new link, a corridor.

Every field has a neutral default, so ``TrafficScenario()`` is the ordinary weekday and
measures combine (road works during +10% demand). Errors name the field. Never runs the
engine (`simulation.traffic.uxsim_engine` does).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields

import numpy as np

from data.errors import TrafficScenarioError
from data.traffic.network import GREEN_SHARE, TrafficNetwork

DEFAULT_DAY = "2026-11-23"  # the project's telemetry day (a Monday)
MAX_ROADS = 400
LIST_FIELDS = ("closed_roads", "corridor_roads", "new_link", "emergency_route")


@dataclass(frozen=True)
class TrafficScenario:
    """What changes against the ordinary weekday.

    - Works or an event: ``closed_roads`` (road_ids of arterials) keep ``lanes_open`` lanes
      per direction (0: closed) from ``closure_from_h`` to ``closure_to_h`` (local hours). The
      engine closes the whole arterial segment a road belongs to.
    - ``demand_growth_pct``: every trip of the day x (1 + pct / 100).
    - A new road: ``new_link`` = (node_a, node_b), node ids of the traffic network, two-way,
      ``new_link_lanes`` lanes per direction at ``new_link_speed_kmh``, drawn straight.
    - A corridor (``corridor_roads``): its signals give it ``corridor_green_share`` of the
      cycle (cross streets the rest; 0.5 today), and/or ``bus_lane`` takes one lane per
      direction from cars for buses.
    - ``emergency_route`` = (node_from, node_to): an emergency vehicle leaving at
      ``emergency_hour``, timed with and without signal pre-emption and priority.
    """

    closed_roads: tuple[str, ...] = ()
    lanes_open: int = 0
    closure_from_h: float = 0.0
    closure_to_h: float = 24.0
    demand_growth_pct: float = 0.0
    new_link: tuple[int, ...] = ()
    new_link_lanes: int = 2
    new_link_speed_kmh: float = 50.0
    corridor_roads: tuple[str, ...] = ()
    corridor_green_share: float = GREEN_SHARE
    bus_lane: bool = False
    emergency_route: tuple[int, ...] = ()
    emergency_hour: float = 8.5
    day: str = DEFAULT_DAY
    seed: int = 1

    def __post_init__(self) -> None:
        for name in LIST_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, list | tuple):
                raise TrafficScenarioError(f"{name} must be a list, got {value!r}")
            cast = str if name.endswith("roads") else _node_id(name)
            object.__setattr__(self, name, tuple(cast(v) for v in value))

    @property
    def is_baseline(self) -> bool:
        """Nothing changes: the ordinary day (emergency timing aside)."""
        return self.engine_part() == TrafficScenario(day=self.day, seed=self.seed)

    def engine_part(self) -> TrafficScenario:
        """The scenario without the emergency trip (which does not change the engine run)."""
        return TrafficScenario(**{**asdict(self), "emergency_route": (), "emergency_hour": 8.5})

    def validate(self, net: TrafficNetwork) -> None:
        """Raise `TrafficScenarioError` naming the first bad field."""
        _check_range("lanes_open", self.lanes_open, 0, 4, whole=True)
        _check_range("closure_from_h", self.closure_from_h, 0, 24)
        _check_range("closure_to_h", self.closure_to_h, 0, 24)
        if self.closed_roads and self.closure_to_h <= self.closure_from_h:
            raise TrafficScenarioError(
                f"closure_to_h = {self.closure_to_h} must be after closure_from_h = "
                f"{self.closure_from_h}"
            )
        _check_range("demand_growth_pct", self.demand_growth_pct, -90, 200)
        _check_range("new_link_lanes", self.new_link_lanes, 1, 4, whole=True)
        _check_range("new_link_speed_kmh", self.new_link_speed_kmh, 10, 130)
        _check_range("corridor_green_share", self.corridor_green_share, 0.2, 0.8)
        _check_range("emergency_hour", self.emergency_hour, 0, 23.99)
        _check_range("seed", self.seed, 0, 2**32 - 1, whole=True)
        if not isinstance(self.bus_lane, bool):
            raise TrafficScenarioError(f"bus_lane = {self.bus_lane!r} must be true or false")
        try:
            dt.date.fromisoformat(str(self.day))
        except ValueError:
            raise TrafficScenarioError(f"day = {self.day!r} is not a date (YYYY-MM-DD)") from None
        for name in ("closed_roads", "corridor_roads"):
            _check_roads(name, getattr(self, name), net)
        if self.bus_lane and not self.corridor_roads:
            raise TrafficScenarioError("bus_lane needs corridor_roads: the roads it runs on")
        if self.bus_lane:
            seg = net.road_segment(self.corridor_roads)
            narrow = net.segments["lanes"].to_numpy()[seg] < 4
            if narrow.any():
                road = self.corridor_roads[int(np.argmax(narrow))]
                raise TrafficScenarioError(
                    f"corridor_roads: {road!r} has fewer than 2 lanes per direction; a bus "
                    "lane would leave no lane for cars"
                )
        for name in ("new_link", "emergency_route"):
            _check_nodes(name, getattr(self, name), net)

    def to_json(self) -> str:
        """The scenario as JSON (`from_json` reads it back)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrafficScenario:
        """A scenario from JSON text; `TrafficScenarioError` names what is wrong."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as err:
            raise TrafficScenarioError(f"scenario is not JSON: {err}") from None
        if not isinstance(data, dict):
            raise TrafficScenarioError("a scenario must be a JSON object")
        data.pop("kind", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrafficScenarioError(f"unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def _node_id(name: str):
    def cast(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer | str):
            raise TrafficScenarioError(f"{name}: {value!r} is not a node id")
        try:
            return int(value)
        except ValueError:
            raise TrafficScenarioError(f"{name}: {value!r} is not a node id") from None

    return cast


def _check_range(name: str, value, low: float, high: float, *, whole: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TrafficScenarioError(f"{name} = {value!r} is not a number")
    if not np.isfinite(value) or not low <= value <= high:
        raise TrafficScenarioError(f"{name} = {value!r} is outside {low:g} - {high:g}")
    if whole and float(value) != int(value):
        raise TrafficScenarioError(f"{name} = {value!r} must be a whole number")


def _check_roads(name: str, roads: tuple[str, ...], net: TrafficNetwork) -> None:
    if len(roads) > MAX_ROADS:
        raise TrafficScenarioError(f"{name} lists {len(roads)} roads; at most {MAX_ROADS}")
    for road, seg in zip(roads, net.road_segment(roads), strict=True):
        if seg < 0:
            example = net.segments["road_ids"].iloc[0][0]
            raise TrafficScenarioError(
                f"{name}: road {road!r} is not on the simulated network (the arterials: "
                f"motorway, trunk, primary and secondary roads of the bundle, e.g. {example!r}); "
                "local streets are not simulated"
            )


def _check_nodes(name: str, nodes: tuple[int, ...], net: TrafficNetwork) -> None:
    if not nodes:
        return
    if len(nodes) != 2 or nodes[0] == nodes[1]:
        raise TrafficScenarioError(f"{name} must be two different node ids, got {list(nodes)}")
    known = set(net.nodes["node_id"])
    for node in nodes:
        if node not in known:
            raise TrafficScenarioError(
                f"{name}: node {node} is not a junction of the simulated network "
                f"(e.g. {int(net.nodes['node_id'].iloc[0])})"
            )
