"""The one interface of a what-if kind: read untrusted parameters, validate them, run them.

A run returns what the scenario store keeps: a ``(time, cell)`` Dataset with units on every
variable, and flat numeric KPIs. Each kind is defined in its domain (`simulation.lighting.kind`,
`simulation.water.kinds`, `simulation.power.kind`, `simulation.traffic.kind`) and registered
in `simulation.kinds`. Nothing here touches the database or Dash.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from data.errors import ScenarioParamsError
from simulation.forms import Studio

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Kpi:
    """A headline figure: its key in ``ScenarioRun.kpis``, label, unit and written format.

    ``format`` is a format spec (by default whole above 100, two decimals below). Defined once
    per kind and read by the library's table, the brief and the exports.
    """

    key: str
    label: str
    unit: str
    format: str | None = None

    def text(self, value: float | None, *, signed: bool = False) -> str:
        """``value`` as the twin writes it: ``"1,234"`` for 1234.4, "—" for none or NaN.

        ``signed`` writes the sign of a change.
        """
        return number_text(value, self.format, signed=signed)


def number_text(value: float | None, spec: str | None = None, *, signed: bool = False) -> str:
    """``value`` in the format ``spec`` (default: whole above 100, two decimals below)."""
    if value is None or not np.isfinite(value):
        return "—"
    spec = spec or (",.0f" if abs(value) >= 100 else ",.2f")
    return format(value, "+" + spec if signed else spec)


@dataclass(frozen=True)
class ScenarioRun:
    """What a run leaves: ``results`` (dims ``time`` and ``cell``, H3 ids) and numeric KPIs.

    ``results`` also carries city totals per time step (``*_total`` variables, dim ``time``).
    KPIs that have no value (a payback that never comes) are NaN.
    """

    results: xr.Dataset
    kpis: dict[str, float]


@dataclass(frozen=True)
class ScenarioKind:
    """One kind of what-if: how its parameters read, validate and run."""

    name: str
    title: str
    engine_packages: tuple[str, ...]  # whose versions a run depends on
    kpis: tuple[Kpi, ...]
    map_variable: str  # the (time, cell) variable a map or brief shows first
    # The scenario value is each kind's own frozen dataclass, hence Any.
    parse: Callable[[dict], Any]  # untrusted dict -> scenario value (types checked)
    to_dict: Callable[[Any], dict]  # scenario value -> canonical JSON-able dict
    validate: Callable[[str, Any], None]  # (city, scenario): ranges and ids, for the city
    run: Callable[[str, Any, Progress], ScenarioRun]
    # Kinds whose engine gives a (time, cell) cube the map plays (the utility networks):
    scenario_types: tuple[type, ...] = ()  # the scenario values of this kind
    simulate: Callable[[str, Any], Any] | None = None  # (city, scenario) -> the engine's result
    map_variables: tuple[Kpi, ...] = ()  # the cube variables a map can show (label, unit)
    mean_variables: tuple[str, ...] = ()  # those averaged over cells; the others add up
    # Its cells add up buildings' figures (customers, people): the public sees cells of k or
    # more buildings only (`layers.run_playback`).
    sums_buildings: bool = False
    studio: Studio | None = None  # its form in the networks studio and its KPI rows there

    def seed(self, params: dict) -> int | None:
        """The scenario's random seed, if its kind has one."""
        seed = params.get("seed")
        return int(seed) if isinstance(seed, int) else None


def engine_versions(kind: ScenarioKind) -> dict[str, str]:
    """Versions of Madina Twin and of the engines ``kind`` runs on, as a run records them."""
    versions = {}
    for package in ("madina-twin", *kind.engine_packages):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def canonical(kind: ScenarioKind, params: object) -> tuple[object, dict]:
    """The scenario ``params`` describe and its canonical parameters.

    Raises `MadinaError` (a subclass naming the field) for anything that is not a scenario of
    ``kind``; ranges that need the city are checked by ``kind.validate``.
    """
    if not isinstance(params, dict):
        raise ScenarioParamsError(
            f"{kind.name} parameters must be an object of fields, got {type(params).__name__}"
        )
    try:
        scenario = kind.parse(dict(params))
    except TypeError as err:  # a dataclass given a field of the wrong shape
        raise ScenarioParamsError(f"bad {kind.name} parameters: {err}") from None
    return scenario, kind.to_dict(scenario)


def with_totals(cube: xr.Dataset, mean: tuple[str, ...]) -> xr.Dataset:
    """``cube`` plus a city total (a mean for ``mean`` variables) per time step of each.

    Each cell variable is tagged ``cell_aggregation`` ("sum" or "mean"): how it rolls up.
    """
    out = {}
    for name, values in cube.data_vars.items():
        if "cell" not in values.dims:
            continue
        how = "mean" if name in mean else "sum"
        total = values.mean("cell") if how == "mean" else values.sum("cell")
        out[name] = values.assign_attrs(cell_aggregation=how)
        out[f"{name}_total"] = total.assign_attrs(
            units=values.attrs.get("units", ""),
            long_name=f"{values.attrs.get('long_name', name)} "
            f"({'mean over the cells' if how == 'mean' else 'city total'})",
        )
    return cube.assign(out)


def numbers(record: Any) -> dict[str, float]:
    """The numeric fields of a KPI dataclass (dates and ids are left out)."""
    out = {}
    for name, value in dataclasses.asdict(record).items():
        if isinstance(value, bool | int | float | np.integer | np.floating):
            out[name] = float(value)
    return out


def _network_run(runner, mean: tuple[str, ...] = ()):
    def run(city: str, scenario, progress: Progress) -> ScenarioRun:
        progress(0.1, "solving the network's day")
        result = runner(city, scenario)
        progress(0.85, "summarising")
        cube = result.cube.drop_vars(
            [v for v in result.cube.coords if v not in result.cube.dims], errors="ignore"
        )
        return ScenarioRun(with_totals(cube, mean), numbers(result.kpis))

    return run


def plain_dict(scenario) -> dict:
    """The canonical dict of a scenario value that round-trips through its own JSON."""
    return json.loads(scenario.to_json())


def network_kind(
    name: str,
    title: str,
    engine_packages: tuple[str, ...],
    kpis: tuple[Kpi, ...],
    map_variable: str,
    parse: Callable[[dict], Any],
    to_dict: Callable[[Any], dict],
    validate: Callable[[str, Any], None],
    *,
    simulate: Callable[[str, Any], Any],
    scenario_types: tuple[type, ...],
    map_variables: tuple[Kpi, ...],
    mean_variables: tuple[str, ...] = (),
    sums_buildings: bool = False,
    studio: Studio | None = None,
) -> ScenarioKind:
    """A kind whose engine returns a result with a (time, cell) ``cube`` and ``kpis``."""
    run = _network_run(simulate, mean=mean_variables)
    return ScenarioKind(
        name, title, engine_packages, kpis, map_variable, parse, to_dict, validate, run,
        scenario_types, simulate, map_variables, mean_variables, sums_buildings, studio,
    )  # fmt: skip
