"""Geometry columns to flat vertex arrays for deck.gl binary attributes.

Pure numpy/shapely; coordinates stay WGS84 degrees (deck.gl's LNGLAT), float32 is ~0.2 m here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from data.errors import LayerSpecError


def point_positions(frame: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) float32 lon/lat of point geometries."""
    kinds = set(frame.geom_type.unique())
    if kinds - {"Point"}:
        raise LayerSpecError(f"expected Point geometries, got {sorted(kinds)}")
    return shapely.get_coordinates(frame.geometry.values).astype(np.float32)


def line_vertices(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (m, 2) float32 and start indices (n + 1,) of LineString rows."""
    kinds = set(frame.geom_type.unique())
    if kinds - {"LineString"}:
        raise LayerSpecError(f"expected LineString geometries, got {sorted(kinds)}")
    coords, owner = shapely.get_coordinates(frame.geometry.values, return_index=True)
    return coords.astype(np.float32), _starts(owner, len(frame))


def polygon_rings(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Closed, counter-clockwise exterior rings: vertices (m, 2) float32 and starts (n + 1,).

    Holes are dropped (the twin draws footprints and district areas, where holes are rare);
    a MultiPolygon row keeps its largest part so that row ``i`` stays feature ``i``.
    """
    geoms = frame.geometry.values
    multi = shapely.get_type_id(geoms) == 6
    if multi.any():
        geoms = geoms.copy()
        geoms[multi] = [max(g.geoms, key=lambda p: p.area) for g in geoms[multi]]
    kinds = set(shapely.get_type_id(geoms))
    if kinds - {3}:
        raise LayerSpecError("expected Polygon or MultiPolygon geometries")
    exteriors = shapely.get_exterior_ring(shapely.orient_polygons(geoms, exterior_cw=False))
    coords, owner = shapely.get_coordinates(exteriors, return_index=True)
    return coords.astype(np.float32), _starts(owner, len(frame))


def _starts(owner: np.ndarray, n_rows: int) -> np.ndarray:
    counts = np.bincount(owner, minlength=n_rows)
    starts = np.zeros(n_rows + 1, dtype=np.uint32)
    np.cumsum(counts, out=starts[1:])
    return starts
