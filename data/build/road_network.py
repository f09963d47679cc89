"""Turn road centrelines into a routable network: segments split at every crossing, with nodes.

Works in a projected (metric) CRS; never reads files or knows where the lines came from.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.city.constants import ROAD_CLASSES

MIN_SEGMENT_M = 1.0
NODE_SNAP_M = 0.1


def node_road_lines(
    lines: gpd.GeoDataFrame, *, prefix: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split road lines at every crossing and give each piece the attributes of its source.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings in a metric CRS with columns road_class, name, lanes, maxspeed_kmh,
        width_m, synthetic. Overlapping sources are merged; the highest class wins. With a
        ``level`` column (OSM ``layer``), lines are split only where they cross lines of their
        own level: a bridge meets the streets under it nowhere but at its ends. With
        ``oneway``, a one-way road's pieces keep the direction its source line is drawn in.
    prefix : str
        Road id prefix (``CAS`` gives ``CAS-R000001``).

    Returns
    -------
    roads, nodes : GeoDataFrame
        Roads with road_id, u, v, length_m (metres) and the source attributes; nodes with
        node_id. Both in the CRS of ``lines``.
    """
    lines = lines[~lines.geometry.is_empty & lines.geometry.notna()].reset_index(drop=True)
    levels = lines["level"] if "level" in lines else pd.Series(0, index=lines.index)
    pieces, source = [], []
    for _level, group in lines.groupby(levels, sort=True):  # a bridge crosses, never meets
        found, owner = _split_and_match(group)
        pieces.append(found)
        source.append(group.index.to_numpy()[owner])
    pieces, source = np.concatenate(pieces), np.concatenate(source)
    if "oneway" in lines:  # a one-way piece runs the way its source is drawn (OSM: the traffic's)
        oneway = lines["oneway"].to_numpy()[source]
        pieces = _as_drawn(pieces, lines.geometry.values[source], oneway)

    roads = lines.drop(columns="geometry").iloc[source].reset_index(drop=True)
    roads = gpd.GeoDataFrame(roads, geometry=pieces, crs=lines.crs)
    roads["length_m"] = shapely.length(pieces)

    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(pieces, 0)),
            shapely.get_coordinates(shapely.get_point(pieces, -1)),
        ]
    )
    keys = np.round(ends / NODE_SNAP_M).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    roads["u"] = inverse[: len(pieces)].astype(np.int64)
    roads["v"] = inverse[len(pieces) :].astype(np.int64)
    roads = roads[roads["u"] != roads["v"]].reset_index(drop=True)
    roads.insert(0, "road_id", [f"{prefix}-R{i + 1:06d}" for i in range(len(roads))])
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(len(unique), dtype=np.int64)},
        geometry=shapely.points(unique * NODE_SNAP_M),
        crs=lines.crs,
    )
    used = np.union1d(roads["u"], roads["v"])
    nodes = nodes[nodes["node_id"].isin(used)].reset_index(drop=True)
    return roads, nodes


def _split_and_match(lines: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of ``lines`` split at every crossing, and the row (position) each comes from."""
    merged = shapely.unary_union(lines.geometry.values)
    pieces = shapely.get_parts(merged)
    pieces = pieces[shapely.get_type_id(pieces) == 1]
    pieces = pieces[shapely.length(pieces) >= MIN_SEGMENT_M]

    # Each piece takes the attributes of the best-ranked source line under its midpoint.
    midpoints = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(lines.geometry.values)
    piece_idx, line_idx = tree.query(midpoints, predicate="dwithin", distance=0.5)
    rank = lines["road_class"].map(lambda c: ROAD_CLASSES[c].rank).to_numpy()
    pairs = pd.DataFrame({"piece": piece_idx, "line": line_idx, "rank": rank[line_idx]})
    best = pairs.sort_values(["piece", "rank", "line"]).drop_duplicates("piece")
    source = np.full(len(pieces), -1)
    source[best["piece"].to_numpy()] = best["line"].to_numpy()
    keep = source >= 0
    return pieces[keep], source[keep]


def _as_drawn(pieces: np.ndarray, sources: np.ndarray, oneway: np.ndarray) -> np.ndarray:
    """``pieces`` of one-way sources reversed where the union drew them against their source."""
    first = shapely.line_locate_point(sources, shapely.get_point(pieces, 0))
    last = shapely.line_locate_point(sources, shapely.get_point(pieces, -1))
    flip = oneway & (first > last)
    pieces = pieces.copy()
    pieces[flip] = shapely.reverse(pieces[flip])
    return pieces


def largest_component_share(roads: pd.DataFrame, n_nodes: int) -> float:
    """Share of nodes in the largest connected component of the undirected road graph."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from(zip(roads["u"], roads["v"], strict=True))
    if graph.number_of_nodes() == 0:
        return 0.0
    return max(len(c) for c in nx.connected_components(graph)) / n_nodes
