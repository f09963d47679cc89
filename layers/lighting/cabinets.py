"""Public-lighting control cabinets and their circuits: cabinets as discs, cable runs as lines.

Builds deck.gl specs from `City.cabinets` and `City.lamps`; never touches Dash or the browser,
and never presents the estimated cable layout as a surveyed one (it is a spanning-tree model).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk

from data.city import City
from data.errors import LayerSpecError
from data.lighting.physics import drawn_power_w
from layers.geometry import point_positions
from layers.spec import Details, LayerSpec, LegendEntry

CABINET_LAYER_ID = "cabinets"
CIRCUIT_LAYER_ID = "circuits"
# Okabe & Ito (2008), "Color Universal Design": a qualitative palette told apart under the
# common colour-vision deficiencies; its black is left out, being the cabinets' outline.
# Feeders take these colours in the order of their sorted ids, cycling (60 in Casablanca).
FEEDER_PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),  # orange
    (86, 180, 233),  # sky blue
    (0, 158, 115),  # bluish green
    (240, 228, 66),  # yellow
    (0, 114, 178),  # blue
    (213, 94, 0),  # vermillion
    (204, 121, 167),  # reddish purple
)
UNKNOWN_FEEDER_COLOR = (160, 160, 160)
# Near-black outline: lamps are drawn without one, so a cabinet reads as a different object.
CABINET_OUTLINE = (20, 20, 24, 255)
# Assumption: a roadside lighting cabinet plus its plinth is ~1-2 m wide; drawn at 8 m so it
# can be found at city zoom, never under 3 px.
CABINET_RADIUS_M = 8.0
# Groups (cabinets) per vectorised Prim batch: big enough to amortise the Python loop, small
# enough that sorting by size keeps the padding to similar-sized groups.
_PRIM_BATCH_GROUPS = 64


@dataclass(frozen=True)
class CircuitSpans:
    """One cable span per lamp: from the point upstream of it (its cabinet or a lamp) to it.

    Attributes
    ----------
    upstream : numpy.ndarray
        (n_lamps,) int: the upstream point of lamp ``i`` as an index into
        ``[cabinets..., lamps...]`` (``j < n_cabinets`` is cabinet row ``j``; otherwise lamp row
        ``j - n_cabinets``).
    cabinet_row : numpy.ndarray
        (n_lamps,) int: the `City.cabinets` row each lamp hangs from.
    length_m : numpy.ndarray
        (n_lamps,) float: length of each span in metres, in the city's metric CRS.
    cable_m : numpy.ndarray
        (n_cabinets,) float: total circuit cable of each cabinet (sum of its spans), metres.
    """

    upstream: np.ndarray
    cabinet_row: np.ndarray
    length_m: np.ndarray
    cable_m: np.ndarray


def spanning_parents(xy: np.ndarray, group: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Euclidean minimum spanning tree of each group's points, oriented away from its root.

    Prim's algorithm grown from each root, run for many groups at once: groups of similar size
    are stacked into a padded (groups, points) array and every step adds one point to each
    group's tree, so the Python loop runs once per point of the largest group in a batch.

    Parameters
    ----------
    xy : numpy.ndarray
        (n, 2) coordinates in metres (a projected CRS).
    group : numpy.ndarray
        (n,) group label of each point; each group gets its own tree.
    root : numpy.ndarray
        (n,) bool, exactly one True per group: where the group's tree is fed from.

    Returns
    -------
    numpy.ndarray
        (n,) int64: the parent of each point in its group's tree (the next point towards the
        root), -1 for the roots. Each group of ``k`` points thus has ``k - 1`` edges; ties
        between equal lengths go to the lower index.

    Raises
    ------
    LayerSpecError
        If a group has no root or several.
    """
    xy = np.asarray(xy, dtype=float)
    root = np.asarray(root, dtype=bool)
    labels, codes = np.unique(np.asarray(group), return_inverse=True)
    roots_per_group = np.bincount(codes[root], minlength=len(labels))
    if (roots_per_group != 1).any():
        bad = np.flatnonzero(roots_per_group != 1)[0]
        raise LayerSpecError(
            f"root: group {labels[bad].item()!r} has {roots_per_group[bad]} roots, expected 1"
        )
    # Members of each group in a row, the root first.
    order = np.lexsort((np.arange(len(xy)), ~root, codes))
    sizes = np.bincount(codes, minlength=len(labels))
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    parents = np.full(len(xy), -1, dtype=np.int64)
    by_size = np.argsort(sizes, kind="stable")
    for batch in np.array_split(by_size, max(1, len(by_size) // _PRIM_BATCH_GROUPS)):
        width = int(sizes[batch].max())
        column = np.arange(width)
        valid = column < sizes[batch, None]
        members = np.where(
            valid, first[batch, None] + np.minimum(column, sizes[batch, None] - 1), 0
        )
        members = order[members]
        parent_column = _prim(np.where(valid[..., None], xy[members], np.nan))
        rows = np.nonzero(valid[:, 1:])
        parents[members[:, 1:][rows]] = members[rows[0], parent_column[:, 1:][rows]]
    return parents


def _prim(points: np.ndarray) -> np.ndarray:
    """Prim's tree of each row of (groups, width, 2) ``points`` (NaN = padding), from column 0.

    Returns the (groups, width) column of each point's parent (0 for the root and padding).
    """
    n_groups, width = points.shape[:2]
    rows = np.arange(n_groups)
    # Squared distances order the same as distances and spare a square root per step.
    best = ((points - points[:, :1]) ** 2).sum(axis=2)
    best[np.isnan(best)] = np.inf
    best[:, 0] = np.inf
    parent = np.zeros((n_groups, width), dtype=np.int64)
    in_tree = np.zeros((n_groups, width), dtype=bool)
    in_tree[:, 0] = True
    for _ in range(width - 1):
        nearest = best.argmin(axis=1)  # a group already complete picks an in-tree point: no-op
        in_tree[rows, nearest] = True
        best[rows, nearest] = np.inf
        new = ((points - points[rows, nearest][:, None]) ** 2).sum(axis=2)  # NaN on padding
        closer = (new < best) & ~in_tree
        best[closer] = new[closer]
        parent[closer] = np.broadcast_to(nearest[:, None], parent.shape)[closer]
    return parent


def circuit_spans(city: City) -> CircuitSpans:
    """The modelled cable spans of every cabinet's circuit (cached per loaded city).

    Circuits are not surveyed: each cabinet's cable is laid out as the Euclidean minimum
    spanning tree over the cabinet and its lamps, in ``city.crs_metric``. Lamps stand along
    streets, so the tree mostly follows them. Assumption: one cable network per cabinet,
    whatever its feeder's phase split.

    Raises
    ------
    LayerSpecError
        If a lamp names a cabinet that is not in ``city.cabinets``.
    """
    return _circuit_spans(_Identity(city))


class _Identity:
    """Hashes a `City` by identity (its frames are unhashable); `load_city` returns one object."""

    __slots__ = ("city",)

    def __init__(self, city: City) -> None:
        self.city = city

    def __hash__(self) -> int:
        return id(self.city)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.city is self.city


@functools.lru_cache(maxsize=4)
def _circuit_spans(key: _Identity) -> CircuitSpans:
    city = key.city
    cabinets, lamps = city.cabinets, city.lamps
    n_cabinets = len(cabinets)
    cabinet_rows = pd.Index(cabinets["cabinet_id"]).get_indexer(lamps["cabinet_id"])
    if (cabinet_rows < 0).any():
        first = int(np.flatnonzero(cabinet_rows < 0)[0])
        raise LayerSpecError(
            f"lamp {lamps['lamp_id'].iloc[first]!r}: cabinet_id "
            f"{lamps['cabinet_id'].iloc[first]!r} is not a cabinet"
        )
    xy = np.concatenate([_metric_xy(cabinets, city.crs_metric), _metric_xy(lamps, city.crs_metric)])
    group = np.concatenate([np.arange(n_cabinets), cabinet_rows])
    root = np.arange(len(xy)) < n_cabinets
    parents = spanning_parents(xy, group, root)
    upstream = parents[n_cabinets:]
    length_m = np.hypot(*(xy[n_cabinets:] - xy[upstream]).T)
    cable_m = np.bincount(cabinet_rows, weights=length_m, minlength=n_cabinets)
    return CircuitSpans(upstream, cabinet_rows, length_m, cable_m)


def _metric_xy(frame: pd.DataFrame, crs: str) -> np.ndarray:
    points = frame.geometry.to_crs(crs)
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()])


def feeder_colors(city: City) -> dict[str, tuple[int, int, int]]:
    """Colour of each feeder: `FEEDER_PALETTE` cycled over the sorted feeder ids."""
    feeders = sorted(city.cabinets["feeder_id"].dropna().unique())
    return {f: FEEDER_PALETTE[i % len(FEEDER_PALETTE)] for i, f in enumerate(feeders)}


def _feeder_rgba(city: City, feeder_ids: pd.Series) -> np.ndarray:
    table = feeder_colors(city)
    rgb = [table.get(f, UNKNOWN_FEEDER_COLOR) for f in feeder_ids]
    colors = np.full((len(feeder_ids), 4), 255, dtype=np.uint8)
    if len(rgb):
        colors[:, :3] = np.asarray(rgb, dtype=np.uint8)
    return colors


def _legend_label(city: City, what: str) -> str:
    n = city.cabinets["feeder_id"].nunique()
    if n <= len(FEEDER_PALETTE):
        return f"{what} (colour: feeder)"
    return f"{what} (colour: feeder; {len(FEEDER_PALETTE)} colours repeat over {n} feeders)"


def cabinet_layer(city: City) -> LayerSpec:
    """Control cabinets as a ScatterplotLayer: 8 m discs (min 3 px), dark outline, feeder fill.

    Tooltip fields include the connected load (kW, lamps at full level including ballast or
    driver losses) and the modelled circuit cable length (m, see `circuit_spans`).
    """
    cabinets = city.cabinets
    spans = circuit_spans(city)
    load_w = np.bincount(
        spans.cabinet_row, weights=drawn_power_w(city.lamps), minlength=len(cabinets)
    )
    district_names = cabinets["district_id"].map(
        city.districts.set_index("district_id")["name"].replace("", np.nan)
    )
    deck_layer = pdk.Layer(
        "ScatterplotLayer",
        id=CABINET_LAYER_ID,
        pickable=True,
        radius_units="'meters'",
        get_radius=CABINET_RADIUS_M,
        radius_min_pixels=3,
        radius_max_pixels=24,
        stroked=True,
        filled=True,
        line_width_units="'pixels'",
        get_line_width=1.5,
        get_line_color=list(CABINET_OUTLINE),
        auto_highlight=True,
        highlight_color=[255, 255, 255, 255],
    )
    colors = _feeder_rgba(city, cabinets["feeder_id"])
    return LayerSpec(
        id=CABINET_LAYER_ID,
        title="Control cabinets",
        deck_layer=deck_layer,
        length=len(cabinets),
        attributes={"getPosition": point_positions(cabinets), "getFillColor": colors},
        fields={
            "cabinet_id": cabinets["cabinet_id"],
            "feeder_id": cabinets["feeder_id"],
            "district": district_names.fillna(cabinets["district_id"]),
            "n_lamps": cabinets["n_lamps"],
            "load_kw": np.round(load_w / 1000, 1),
            "cable_m": np.round(spans.cable_m),
            "provenance": cabinets["synthetic"].map(
                {True: "synthetic, estimated", False: "surveyed"}
            ),
        },
        tooltip="Cabinet {cabinet_id} · feeder {feeder_id}\n{district}\n"
        "{n_lamps} light points · {load_kw} kW\n{cable_m} m of circuit cable (modelled)\n"
        "{provenance}",
        id_field="cabinet_id",
        legend_title="Control cabinets",
        legend=(LegendEntry(_legend_label(city, "Control cabinet"), FEEDER_PALETTE[0]),),
        visible=False,
    )


def circuit_layer(city: City) -> LayerSpec:
    """Circuit cables as a LineLayer: one span per lamp, from upstream point to lamp, 1 px.

    Coloured like its cabinet's feeder. The layout is modelled (see `circuit_spans`).
    """
    cabinets, lamps = city.cabinets, city.lamps
    spans = circuit_spans(city)
    points = np.concatenate([point_positions(cabinets), point_positions(lamps)])
    deck_layer = pdk.Layer(
        "LineLayer",
        id=CIRCUIT_LAYER_ID,
        pickable=True,
        width_units="'pixels'",
        get_width=1,
        width_min_pixels=1,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 255],
    )
    cabinet_ids = cabinets["cabinet_id"].to_numpy()[spans.cabinet_row]
    feeder_ids = cabinets["feeder_id"].to_numpy()[spans.cabinet_row]
    return LayerSpec(
        id=CIRCUIT_LAYER_ID,
        title="Lighting circuits",
        deck_layer=deck_layer,
        length=len(lamps),
        attributes={
            "getSourcePosition": points[spans.upstream],
            "getTargetPosition": points[len(cabinets) :],
            "getColor": _feeder_rgba(city, pd.Series(feeder_ids)),
        },
        fields={
            "cabinet_id": cabinet_ids,
            "feeder_id": feeder_ids,
            "length_m": spans.length_m,
        },
        tooltip="Circuit of cabinet {cabinet_id} (feeder {feeder_id})\n{length_m} m span",
        id_field="cabinet_id",
        legend_title="Lighting circuits",
        legend=(
            LegendEntry(
                _legend_label(city, "Cable run, modelled as a spanning tree"), FEEDER_PALETTE[0]
            ),
        ),
        visible=False,
    )


# What the details card of a clicked feature shows: (column, label, unit) rows.
CABINETS_DETAILS = Details(
    "cabinet_id",
    (
        ("cabinet_id", "Control cabinet", ""),
        ("feeder_id", "Feeder", ""),
        ("district_id", "District", ""),
        ("n_lamps", "Light points", ""),
        ("synthetic", "Synthetic (estimated)", ""),
    ),
)
