"""A stored run as files for people outside the twin: CSV, GeoJSON cells, a one-page HTML brief.

The brief is self-contained (its map and chart are embedded PNGs drawn with matplotlib), so it
opens offline, mails as one file and prints on one page. Nothing here reads the database.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io

import h3.api.numpy_int as h3
import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402

from data.city import load_city  # noqa: E402
from data.city.clock import offset_label, to_local  # noqa: E402
from data.store.scenarios import ScenarioRecord  # noqa: E402
from simulation.compare import difference, kpi_deltas  # noqa: E402
from simulation.kind import number_text  # noqa: E402
from simulation.kinds import kind_of  # noqa: E402


def cell_variables(results: xr.Dataset) -> list[str]:
    """The (time, cell) variables of a run's results, in stored order."""
    return [name for name, v in results.data_vars.items() if v.dims == ("time", "cell")]


def results_csv(results: xr.Dataset, city: str) -> str:
    """Long CSV: local time, H3 cell (hex), one column per variable with its unit.

    Rows where every variable is 0 or missing are left out (most cells are untouched by an
    event); the header names the time zone offset.
    """
    names = cell_variables(results)
    frame = results[names].to_dataframe().reset_index()
    values = frame[names]
    frame = frame[(values.fillna(0) != 0).any(axis=1)]
    label = offset_label(city, results["time"].values[0])  # the offset the run starts in
    frame["time"] = to_local(city, frame["time"].to_numpy()).strftime("%Y-%m-%dT%H:%M")
    frame["cell"] = [h3.int_to_str(int(c)) for c in frame["cell"]]
    frame = frame.rename(
        columns={
            "time": f"local_time ({label})",
            "cell": "h3_cell",
            **{n: f"{n} ({results[n].attrs.get('units', '')})" for n in names},
        }
    )
    return frame.to_csv(index=False, float_format="%.6g")


def _cell_summary(values: xr.DataArray, how: str) -> xr.DataArray:
    """A (time, cell) variable over the run: its total, or its mean if ``how`` is "mean"."""
    if how == "mean":
        return values.mean("time")
    return values.sum("time")


def cells_geojson(results: xr.Dataset) -> dict:
    """The run's H3 cells as a GeoJSON FeatureCollection (WGS 84 lon/lat polygons).

    Properties per cell: each variable over the run (a total for sums, a mean for means) and
    its worst time step (``<name>_peak``). Units are listed in the collection's ``units``.
    """
    names = cell_variables(results)
    summaries = {
        n: _cell_summary(results[n], results[n].attrs.get("cell_aggregation", "sum")).to_numpy()
        for n in names
    }
    peaks = {n: results[n].max("time").to_numpy() for n in names}
    features = []
    for k, cell in enumerate(results["cell"].to_numpy()):
        ring = [[round(lon, 7), round(lat, 7)] for lat, lon in h3.cell_to_boundary(int(cell))]
        props: dict = {"h3_cell": h3.int_to_str(int(cell))}
        for n in names:
            props[n] = _json_number(summaries[n][k])
            props[f"{n}_peak"] = _json_number(peaks[n][k])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": props,
            }
        )
    units = {n: results[n].attrs.get("units", "") for n in names}
    return {"type": "FeatureCollection", "units": units, "features": features}


def _json_number(value) -> float | None:
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def brief_html(
    record: ScenarioRecord,
    results: xr.Dataset,
    reference: ScenarioRecord | None = None,
    reference_results: xr.Dataset | None = None,
) -> str:
    """A one-page HTML brief: what was run, its KPIs, a map and the city-wide chart over time.

    With a ``reference`` run (of the same kind and times) the KPIs show absolute and % deltas
    and the map shows the difference on a diverging scale centred on zero.
    """
    kind = kind_of(record.kind)
    variable = kind.map_variable
    compared = reference is not None and reference_results is not None
    if compared:
        deltas = kpi_deltas(record, reference)
        head = ("KPI", reference.name, record.name, "Change", "Change %")
        rows = [
            (f"{d.kpi.label} ({d.kpi.unit})", d.kpi.text(d.reference), d.kpi.text(d.value),
             d.kpi.text(d.change, signed=True), number_text(d.change_pct, signed=True))
            for d in deltas
        ]  # fmt: skip
        per_cell = difference(results, reference_results, variable)
        map_title = f"Change in {_title(results, variable)}: {record.name} − {reference.name}"
    else:
        head = ("KPI", record.name)
        kpis = record.kpis or {}
        rows = [(f"{k.label} ({k.unit})", k.text(kpis.get(k.key))) for k in kind.kpis]
        per_cell = results[variable]
        map_title = _title(results, variable)
    summary = _cell_summary(per_cell, results[variable].attrs.get("cell_aggregation", "sum"))
    map_png = _map_png(
        record.city, summary, diverging=compared, unit=results[variable].attrs.get("units", "")
    )
    chart_png = _chart_png(
        record, results, variable, reference if compared else None, reference_results
    )
    params = ", ".join(f"{k} = {v}" for k, v in sorted(record.params.items()))
    engines = ", ".join(f"{k} {v}" for k, v in sorted(record.engine_versions.items()))
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return _PAGE.format(
        title=html.escape(record.name),
        kind=html.escape(kind.title),
        city=html.escape(record.city.title()),
        author=html.escape(record.author),
        created=html.escape(record.created_at),
        runtime=f"{record.runtime_s or 0:.1f}",
        record_id=html.escape(record.id),
        params=html.escape(params),
        engines=html.escape(engines),
        head="".join(f"<th>{html.escape(h)}</th>" for h in head),
        table=table,
        map_png=map_png,
        chart_png=chart_png,
        map_title=html.escape(map_title),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _title(results: xr.Dataset, variable: str) -> str:
    values = results[variable]
    return f"{values.attrs.get('long_name', variable)} ({values.attrs.get('units', '')})"


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _map_png(city: str, per_cell: xr.DataArray, *, diverging: bool, unit: str) -> str:
    town = load_city(city)
    values = per_cell.to_numpy().astype(float)
    cells = per_cell["cell"].to_numpy()
    polygons = [[(lon, lat) for lat, lon in h3.cell_to_boundary(int(c))] for c in cells]
    fig, ax = plt.subplots(figsize=(6.2, 4.6))
    town.districts.boundary.plot(ax=ax, color="#9aa5b1", linewidth=0.5)
    finite = values[np.isfinite(values)]
    if diverging:
        bound = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
        norm, cmap = TwoSlopeNorm(0.0, -bound, bound), "RdBu_r"
    else:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        norm, cmap = Normalize(low, high if high > low else low + 1), "viridis"
    collection = PolyCollection(polygons, array=values, cmap=cmap, norm=norm, linewidths=0)
    ax.add_collection(collection)
    minx, miny, maxx, maxy = town.districts.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))
    ax.set_axis_off()
    fig.colorbar(collection, ax=ax, shrink=0.75, label=unit)
    return _png(fig)


def _chart_png(record, results, variable, reference, reference_results) -> str:
    total = f"{variable}_total"
    fig, ax = plt.subplots(figsize=(6.2, 2.6))
    runs = [(record.name, results, "#1f77b4")]
    if reference is not None:
        runs.insert(0, (reference.name, reference_results, "#ff7f0e"))
    for name, ds, color in runs:
        times = to_local(record.city, ds["time"].to_numpy())
        ax.plot(times, ds[total].to_numpy(), label=name[:40], color=color, linewidth=1.4)
    ax.set_ylabel(results[total].attrs.get("units", ""))
    ax.set_title(results[total].attrs.get("long_name", total), fontsize=9)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _png(fig)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — Madina Twin brief</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 1.2cm; color: #1b1f24; font-size: 10.5pt; }}
 h1 {{ font-size: 16pt; margin: 0 0 .2em; }} .meta {{ color: #57606a; margin: 0 0 .6em; }}
 .grid {{ display: grid; grid-template-columns: 1.1fr 1fr; gap: .8em; align-items: start; }}
 table {{ border-collapse: collapse; width: 100%; }} img {{ max-width: 100%; }}
 td, th {{ border-bottom: 1px solid #d0d7de; padding: 2px 6px; text-align: right; }}
 td:first-child, th:first-child {{ text-align: left; }}
 figure {{ margin: 0 0 .5em; }} figcaption {{ font-weight: 600; font-size: 9.5pt; }}
 .small {{ font-size: 8.5pt; color: #57606a; word-break: break-word; }}
 @page {{ size: A4 landscape; margin: 1cm; }}
</style></head><body>
<h1>{title}</h1>
<p class="meta">{kind} · {city} · by {author} · {created} · run {record_id} in {runtime} s</p>
<div class="grid">
 <div><figure><figcaption>{map_title}</figcaption>
  <img alt="{map_title}" src="data:image/png;base64,{map_png}"></figure>
  <figure><img alt="City-wide chart over time"
   src="data:image/png;base64,{chart_png}"></figure></div>
 <div><table><thead><tr>{head}</tr></thead><tbody>{table}</tbody></table>
  <p class="small"><b>Parameters:</b> {params}</p>
  <p class="small"><b>Engines:</b> {engines}. Generated {generated} by Madina Twin.</p></div>
</div></body></html>
"""
