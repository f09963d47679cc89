"""Scenarios against each other: KPI deltas with units, and the cell-by-cell difference of a run.

Pure functions of stored records and result Datasets; the dashboard and the exports format
what these return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from data.errors import CompareError
from data.store.scenarios import ScenarioRecord
from simulation.kinds import Kpi, kind_of


@dataclass(frozen=True)
class KpiDelta:
    """One KPI of a scenario against a reference: values, absolute and relative change."""

    kpi: Kpi
    reference: float | None
    value: float | None

    @property
    def change(self) -> float | None:
        """``value - reference`` (None if either is missing)."""
        if self.reference is None or self.value is None:
            return None
        return self.value - self.reference

    @property
    def change_pct(self) -> float | None:
        """The change in % of the reference (None if the reference is 0 or missing)."""
        change = self.change
        if change is None or self.reference == 0:
            return None
        return 100 * change / abs(self.reference)


def kpi_table(records: list[ScenarioRecord]) -> list[tuple[Kpi, list[float | None]]]:
    """Rows (KPI, one value per record) over the KPIs of the records' kinds, in kind order.

    A record of another kind, or not finished, has None where it has no such KPI.
    """
    rows: dict[str, tuple[Kpi, list[float | None]]] = {}
    for record in records:
        for kpi in kind_of(record.kind).kpis:
            rows.setdefault(kpi.key, (kpi, []))
    for kpi, values in rows.values():
        for record in records:
            value = (record.kpis or {}).get(kpi.key)
            values.append(None if value is None else float(value))
    return list(rows.values())


def kpi_deltas(record: ScenarioRecord, reference: ScenarioRecord) -> list[KpiDelta]:
    """Every KPI of ``record`` against ``reference`` (both finished runs of one kind)."""
    _check_comparable(record, reference)
    return [
        KpiDelta(kpi, _value(reference, kpi.key), _value(record, kpi.key))
        for kpi in kind_of(record.kind).kpis
    ]


def difference(results: xr.Dataset, reference: xr.Dataset, variable: str) -> xr.DataArray:
    """``results - reference`` of ``variable`` per (time, cell), on the union of their cells.

    A cell one run does not have counts as 0 there (these variables are sums over a cell:
    energy, people, vehicle-km). The runs must share their time steps.
    """
    for name, ds in (("scenario", results), ("reference", reference)):
        if variable not in ds:
            known = ", ".join(v for v in ds.data_vars if "cell" in ds[v].dims)
            raise CompareError(f"{name} results have no variable {variable!r}; known: {known}")
    a, b = results[variable], reference[variable]
    if a.sizes["time"] != b.sizes["time"] or not np.array_equal(a["time"], b["time"]):
        raise CompareError(
            f"{variable}: the runs cover different times ({_span(a)} against {_span(b)}); "
            "compare runs of the same day or year"
        )
    a, b = xr.align(a, b, join="outer", fill_value=0)
    out = (a - b).astype(np.float32)
    return out.assign_attrs(
        units=results[variable].attrs.get("units", ""),
        long_name=f"change in {results[variable].attrs.get('long_name', variable)}",
    )


def _span(values: xr.DataArray) -> str:
    times = values["time"].to_numpy()
    return f"{str(times[0])[:16]}..{str(times[-1])[:16]}" if len(times) else "no time"


def _value(record: ScenarioRecord, key: str) -> float | None:
    value = (record.kpis or {}).get(key)
    return None if value is None or not math.isfinite(value) else float(value)


def _check_comparable(record: ScenarioRecord, reference: ScenarioRecord) -> None:
    for r in (record, reference):
        if r.status != "done":
            raise CompareError(f"scenario {r.id} ({r.name}) is {r.status}: no results to compare")
    if record.kind != reference.kind:
        raise CompareError(
            f"scenario {record.id} is {record.kind} and {reference.id} is {reference.kind}; "
            "deltas compare runs of one kind"
        )
