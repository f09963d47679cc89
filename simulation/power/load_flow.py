"""AC load flow of a city's 20 kV network at a local hour: line loading and bus voltages.

Runs pandapower on the stored model (`data.power.model`) with the hour's demand; never builds
or writes the network, and never trips anything (outages are `simulation.power.outage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.city import City
from data.lighting.physics import dark
from data.power.model import load_pandapower_model
from data.power.network import ADMD_KW, POWER_FACTOR, load_power_network
from simulation.power.outage import (
    DEFAULT_DAY,
    PowerScenarioError,
    local_midnight_utc,
    residential_share,
)


@dataclass(frozen=True)
class LoadFlowResult:
    """Outcome of `load_flow` at one hour.

    lines: by line_id, feeder_id, loading_pct, i_ka, p_mw (sending end). buses: by
    transformer_id, feeder_id, vm_pu, load_kw. feeders: by feeder_id, max_loading_pct,
    min_vm_pu, load_kw.
    """

    hour: int
    converged: bool
    lines: pd.DataFrame = field(repr=False)
    buses: pd.DataFrame = field(repr=False)
    feeders: pd.DataFrame = field(repr=False)


def load_flow(
    city: City, *, hour: int = 20, feeders: tuple[str, ...] | None = None, day: str = DEFAULT_DAY
) -> LoadFlowResult:
    """AC power flow (pandapower Newton-Raphson) of the 20 kV network at a local hour.

    Transformer loads: dwellings x `ADMD_KW` x `residential_share` (hour) plus the lamps'
    drawn power if it is dark then (on ``day``); power factor `POWER_FACTOR`. Ties stay open.

    Parameters
    ----------
    city : City
        The city; its stored pandapower model (``power.json``) is used.
    hour : int
        Local hour, 0-23 (the load is taken at the middle of the hour).
    feeders : tuple of str, optional
        Only these feeders (the others are switched off); default all.
    day : str
        Local date (ISO) deciding whether lamps are lit.
    """
    import pandapower as pp

    net = load_power_network(city)
    if isinstance(hour, bool) or not isinstance(hour, int | np.integer) or not 0 <= hour <= 23:
        raise PowerScenarioError(f"hour must be a whole local hour within 0-23, got {hour!r}")
    chosen = list(net.feeders.index) if feeders is None else list(feeders)
    unknown = sorted(set(chosen) - set(net.feeders.index))
    if unknown or not chosen:
        raise PowerScenarioError(f"feeders: unknown or empty feeder ids {unknown}")
    utc = local_midnight_utc(city, day) + pd.Timedelta(hours=hour, minutes=30)
    lon, lat = city.center
    lit = float(dark(lat, lon, np.array([utc.to_datetime64()]))[0])

    tr = net.transformers
    on = tr["feeder_id"].isin(chosen).to_numpy()
    res_kw = tr["n_customers"].to_numpy() * ADMD_KW
    lamp_kw = tr["peak_load_kw"].to_numpy() - res_kw
    kw = (res_kw * residential_share(hour + 0.5) + lamp_kw * lit) * on
    model = load_pandapower_model(city)
    load_row = model.load.index[pd.Index(model.load["name"]).get_indexer(tr["transformer_id"])]
    model.load.loc[load_row, "p_mw"] = kw / 1000
    model.load.loc[load_row, "q_mvar"] = kw / 1000 * math.tan(math.acos(POWER_FACTOR))
    line_feeder = net.lines.set_index("line_id")["feeder_id"]
    line_names = model.line["name"].to_numpy()
    model.line["in_service"] = line_feeder.reindex(line_names).isin(chosen).to_numpy()
    try:
        pp.runpp(model, numba=False)
    except pp.LoadflowNotConverged as err:
        raise PowerScenarioError(f"load flow did not converge at hour {hour}") from err

    mv = net.lines["kind"].to_numpy() == "mv"
    line_row = pd.Index(line_names).get_indexer(net.lines["line_id"][mv])
    lines = pd.DataFrame(
        {
            "feeder_id": net.lines["feeder_id"].to_numpy()[mv],
            "loading_pct": model.res_line["loading_percent"].to_numpy()[line_row],
            "i_ka": model.res_line["i_ka"].to_numpy()[line_row],
            "p_mw": model.res_line["p_from_mw"].to_numpy()[line_row],
        },
        index=pd.Index(net.lines["line_id"][mv], name="line_id"),
    )
    lines = lines[lines["feeder_id"].isin(chosen)]
    bus_row = pd.Index(model.bus["name"]).get_indexer(tr["transformer_id"])
    buses = pd.DataFrame(
        {
            "feeder_id": tr["feeder_id"].to_numpy(),
            "vm_pu": model.res_bus["vm_pu"].to_numpy()[bus_row],
            "load_kw": kw,
        },
        index=pd.Index(tr["transformer_id"], name="transformer_id"),
    )[on]
    summary = pd.DataFrame(
        {
            "max_loading_pct": lines.groupby("feeder_id")["loading_pct"].max(),
            "min_vm_pu": buses.groupby("feeder_id")["vm_pu"].min(),
            "load_kw": buses.groupby("feeder_id")["load_kw"].sum(),
        }
    )
    return LoadFlowResult(hour, bool(model.converged), lines, buses, summary)
