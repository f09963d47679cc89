"""Water what-if scenarios: pipe bursts and pressure management, validated and JSON round-trip.

Immutable, validated values whose errors name the field; never run EPANET
(`simulation.water.hydraulics`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import numpy as np

from data.errors import WaterScenarioError
from data.water.model import REQUIRED_PRESSURE_M
from data.water.network import WaterNetwork

DEFAULT_DAY = "2026-11-23"
MAX_BREAKS = 20


def _check_range(name: str, value, low: float, high: float, *, whole: bool = False) -> None:
    """A number (a whole one if ``whole``) within ``low``-``high``, else an error naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise WaterScenarioError(f"{name} = {value!r} is not a number")
    if whole and float(value) != int(value):
        raise WaterScenarioError(f"{name} = {value!r} must be a whole number")
    if not low <= value <= high:
        raise WaterScenarioError(f"{name} = {value!r} is outside {low} - {high}")


def _check_day(day: str) -> None:
    try:
        dt.date.fromisoformat(str(day))
    except ValueError:
        raise WaterScenarioError(f"day = {day!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class PipeBreakScenario:
    """Pipes that burst at ``start`` (local hour), isolated by valves, then repaired.

    ``pipes``: link ids (the road ids of their streets); or leave empty and set
    ``random_breaks`` pipes drawn with ``seed``. ``isolation_h``: hours until the crew has
    closed the valves around the segment; ``repair_h``: hours the segment stays shut.
    ``opening``: burst area as a share of the pipe bore.
    """

    pipes: tuple[str, ...] = ()
    random_breaks: int = 0
    seed: int = 1
    start: int = 6
    isolation_h: int = 2
    repair_h: int = 8
    opening: float = 0.5
    day: str = DEFAULT_DAY

    def __post_init__(self) -> None:
        object.__setattr__(self, "pipes", tuple(str(p) for p in self.pipes))

    def validate(self, network: WaterNetwork) -> None:
        """Raise `WaterScenarioError` naming the first bad field."""
        _check_range("random_breaks", self.random_breaks, 0, MAX_BREAKS, whole=True)
        _check_range("seed", self.seed, 0, 2**32 - 1, whole=True)
        _check_range("start", self.start, 0, 23, whole=True)
        _check_range("isolation_h", self.isolation_h, 0, 12, whole=True)
        _check_range("repair_h", self.repair_h, 1, 23, whole=True)
        _check_range("opening", self.opening, 0.05, 1.0)
        _check_day(self.day)
        if not self.pipes and not self.random_breaks:
            raise WaterScenarioError("pipes is empty and random_breaks is 0: nothing breaks")
        if len(self.pipes) > MAX_BREAKS:
            raise WaterScenarioError(f"pipes lists {len(self.pipes)} pipes; at most {MAX_BREAKS}")
        known = network.pipes.set_index("link_id")
        for pipe in self.pipes:
            if pipe not in known.index:
                raise WaterScenarioError(
                    f"pipes: unknown pipe {pipe!r}; pipe ids are the road ids (e.g. "
                    f"{known.index[0]!r}), see water_pipes.parquet"
                )
            if known.at[pipe, "role"] == "inlet" or known.at[pipe, "status"] != "open":
                raise WaterScenarioError(
                    f"pipes: {pipe!r} is a {known.at[pipe, 'role']} link that carries no "
                    "water main flow (a PRV or a closed boundary valve); choose an open pipe"
                )

    def chosen_pipes(self, network: WaterNetwork) -> tuple[str, ...]:
        """The pipes that break: the listed ones, else a seeded draw of open pipes."""
        if self.pipes:
            return self.pipes
        pipes = network.pipes
        candidates = pipes.loc[(pipes["status"] == "open") & (pipes["role"] != "inlet"), "link_id"]
        rng = np.random.default_rng(self.seed)
        picked = rng.choice(len(candidates), size=self.random_breaks, replace=False)
        return tuple(candidates.to_numpy()[np.sort(picked)])

    def to_json(self) -> str:
        """The scenario as JSON (``from_json`` reads it back)."""
        return json.dumps({"kind": "pipe_break", **asdict(self)}, sort_keys=True)


@dataclass(frozen=True)
class PressureScenario:
    """Pressure management: PRV outlets of ``dmas`` (empty: all) lowered and demand-modulated.

    ``critical_pressure_m``: pressure kept at each DMA's highest junction (baseline 25 m).
    ``modulated``: the outlet follows demand (flow-modulated PRV), adding the DMA's headloss
    allowance only in proportion to (demand / peak demand) squared, so night pressure drops.
    """

    dmas: tuple[str, ...] = ()
    critical_pressure_m: float = 20.0
    modulated: bool = True
    day: str = DEFAULT_DAY

    def __post_init__(self) -> None:
        object.__setattr__(self, "dmas", tuple(str(d) for d in self.dmas))

    def validate(self, network: WaterNetwork) -> None:
        """Raise `WaterScenarioError` naming the first bad field."""
        _check_range("critical_pressure_m", self.critical_pressure_m, REQUIRED_PRESSURE_M, 60)
        if not isinstance(self.modulated, bool):
            raise WaterScenarioError(f"modulated = {self.modulated!r} must be true or false")
        _check_day(self.day)
        known = set(network.dmas["dma_id"])
        for dma in self.dmas:
            if dma not in known:
                raise WaterScenarioError(
                    f"dmas: unknown DMA {dma!r}; DMA ids are 'DMA-<H3 resolution-7 cell>', "
                    f"e.g. {sorted(known)[0]!r}"
                )

    def to_json(self) -> str:
        """The scenario as JSON (``from_json`` reads it back)."""
        return json.dumps({"kind": "pressure", **asdict(self)}, sort_keys=True)


def scenario_from_json(text: str) -> PipeBreakScenario | PressureScenario:
    """Read a scenario written by ``to_json``; `WaterScenarioError` names what is wrong."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise WaterScenarioError(f"scenario is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise WaterScenarioError("scenario must be a JSON object")
    kinds = {"pipe_break": PipeBreakScenario, "pressure": PressureScenario}
    kind = data.pop("kind", None)
    if kind not in kinds:
        raise WaterScenarioError(f"kind = {kind!r}; use one of {', '.join(kinds)}")
    cls = kinds[kind]
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise WaterScenarioError(f"unknown field(s) {unknown} for {kind}; known: {sorted(known)}")
    for name in ("pipes", "dmas"):
        if name in data:
            if not isinstance(data[name], list | tuple):
                raise WaterScenarioError(f"{name} must be a list of ids")
            data[name] = tuple(data[name])
    try:
        return cls(**data)
    except TypeError as err:
        raise WaterScenarioError(f"bad {kind} scenario: {err}") from None
