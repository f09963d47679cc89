"""The pandapower model of a city's 20 kV network: built from `PowerNetwork`, stored, loaded.

Turns the stored network (`data.power.network`) into pandapower's buses, lines, loads and
switches and keeps it as ``power.json`` beside the bundle; never runs a load flow (that is
`simulation.power.load_flow`). pandapower is imported only when a model is built or read.
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from data.city import City
from data.power.network import (
    CABLE_TYPE,
    MV_KV,
    POWER_FACTOR,
    PowerNetwork,
    PowerNetworkError,
)

BUSBAR_VM_PU = 1.02  # assumption: on-load tap changers hold the 20 kV busbar at 1.02 p.u.
MODEL_FILE = "power.json"


def pandapower_model(net: PowerNetwork):
    """The MV network as a pandapower net: a 20 kV bus per substation and per transformer.

    Each substation busbar is an external grid at `BUSBAR_VM_PU`; each transformer a load at
    its ``peak_load_kw`` (power factor `POWER_FACTOR`) named by its id; MV sections are lines
    named by line_id; ties are lines behind an open switch.
    """
    import pandapower as pp  # heavy import, only when a model is wanted

    model = pp.create_empty_network(name=net.city, f_hz=50.0)
    nodes = pd.concat([net.substations["substation_id"], net.transformers["transformer_id"]])
    bus = pd.Series(
        pp.create_buses(model, len(nodes), vn_kv=MV_KV, name=nodes.to_numpy()), index=nodes
    )
    for sid in net.substations["substation_id"]:
        pp.create_ext_grid(model, bus[sid], vm_pu=BUSBAR_VM_PU, name=sid)
    tr = net.transformers
    p_mw = tr["peak_load_kw"].to_numpy() / 1000
    pp.create_loads(
        model,
        bus[tr["transformer_id"]].to_numpy(),
        p_mw=p_mw,
        q_mvar=p_mw * math.tan(math.acos(POWER_FACTOR)),
        name=tr["transformer_id"].to_numpy(),
    )
    lines = net.lines
    ids = pp.create_lines(
        model,
        bus[lines["from_id"]].to_numpy(),
        bus[lines["to_id"]].to_numpy(),
        length_km=np.maximum(lines["length_m"].to_numpy(), 1.0) / 1000,
        std_type=CABLE_TYPE,
        name=lines["line_id"].to_numpy(),
        parallel=lines["n_parallel"].to_numpy(),
    )
    ties = np.flatnonzero(lines["normally_open"].to_numpy())
    pp.create_switches(
        model,
        bus[lines["to_id"].to_numpy()[ties]].to_numpy(),
        np.asarray(ids)[ties],
        et="l",
        closed=False,
        name=lines["line_id"].to_numpy()[ties],
    )
    return model


def save_pandapower_model(net: PowerNetwork, folder: Path) -> Path:
    """Write the pandapower model of ``net`` as `MODEL_FILE` into ``folder``; return its path."""
    import pandapower as pp

    path = Path(folder) / MODEL_FILE
    pp.to_json(pandapower_model(net), str(path))
    return path


def load_pandapower_model(city: City):
    """A fresh copy of the stored pandapower model of ``city`` (``power.json``).

    Raises
    ------
    PowerNetworkError
        If the file is missing; the message names it and the rebuild command.
    """
    return copy.deepcopy(_load_model(str(city.folder)))


@functools.lru_cache(maxsize=4)
def _load_model(bundle_dir: str):
    import pandapower as pp

    path = Path(bundle_dir) / MODEL_FILE
    if not path.is_file():
        raise PowerNetworkError(
            f"pandapower model {MODEL_FILE} missing in {path.parent}; "
            "rebuild it with `python -m data.power`"
        )
    return pp.from_json(str(path))
