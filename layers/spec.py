"""The layer spec: what a layer builder returns and the browser draws.

A spec is declarative (pydeck props) plus columns (numpy arrays); it never holds Dash objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pydeck as pdk

from data.errors import LayerSpecError


@dataclass(frozen=True)
class Details:
    """What the details card of a clicked feature shows, looked up in the bundle by id.

    ``fields``: (column, label, unit) rows, in order.
    """

    id_column: str
    fields: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a colour swatch and its label."""

    label: str
    color: tuple[int, ...]


@dataclass(frozen=True)
class LayerSpec:
    """A deck.gl layer whose big columns travel as binary attributes.

    Attributes
    ----------
    id : str
        Stable deck.gl layer id (deck.gl matches layers across updates by id).
    title : str
        Human name (legend, toggles).
    deck_layer : pydeck.Layer
        Declarative props (no data); serialised by pydeck to deck.gl JSON.
    length : int
        Number of rows (features).
    attributes : dict
        deck.gl accessor name (``getPosition``, ``getFillColor``...) -> array of shape
        (length, size) or (length,), one value per row.
    start_indices : numpy.ndarray, optional
        For path/polygon layers: row ``i`` owns vertices ``start_indices[i]:start_indices[i+1]``.
        Vertex attributes (``getPath``, ``getPolygon``) then have one row per vertex and
        per-row attributes are expanded to vertices when packed.
    fields : dict
        Per-row values shown in tooltips and the details panel (numbers or text).
    tooltip : str
        Template such as ``"Lamp {lamp_id}"``; names refer to ``fields``.
    id_field : str
        The field that identifies a row for the details panel.
    legend : tuple of LegendEntry
    legend_title : str
    visible : bool
        Shown on first load.
    """

    id: str
    title: str
    deck_layer: pdk.Layer
    length: int
    attributes: dict[str, np.ndarray]
    fields: dict[str, pd.Series | np.ndarray] = field(default_factory=dict)
    start_indices: np.ndarray | None = None
    tooltip: str = ""
    id_field: str = ""
    legend: tuple[LegendEntry, ...] = ()
    legend_title: str = ""
    visible: bool = True

    def __post_init__(self) -> None:
        vertex_keys = {"getPath", "getPolygon"}
        n_vertices = None
        if self.start_indices is not None:
            starts = np.asarray(self.start_indices)
            if len(starts) != self.length + 1:
                raise LayerSpecError(
                    f"layer {self.id!r}: start_indices has {len(starts)} entries, "
                    f"expected length + 1 = {self.length + 1}"
                )
            n_vertices = int(starts[-1])
        for name, values in self.attributes.items():
            expected = n_vertices if name in vertex_keys else self.length
            if len(values) != expected:
                raise LayerSpecError(
                    f"layer {self.id!r}: attribute {name!r} has {len(values)} rows, "
                    f"expected {expected}"
                )
        for name, values in self.fields.items():
            if len(values) != self.length:
                raise LayerSpecError(
                    f"layer {self.id!r}: field {name!r} has {len(values)} rows, "
                    f"expected {self.length}"
                )
        if self.id_field and self.id_field not in self.fields:
            raise LayerSpecError(f"layer {self.id!r}: id_field {self.id_field!r} not in fields")

    def deck_json(self) -> dict:
        """The pydeck-serialised declarative props of the layer (deck.gl JSON).

        pydeck marks every string as a JS expression (``@@=``); deck.gl's JSON converter
        turns those into accessor functions, which is right for ``get*`` props only. Plain
        props (``radiusUnits``, ``_windingOrder``...) are unwrapped back to literals here.
        """
        return deck_json(self.deck_layer)


def deck_json(layer: pdk.Layer) -> dict:
    """A pydeck layer's props as deck.gl JSON, plain (non-accessor) props as literals."""
    props = json.loads(layer.to_json())
    return {key: _literal(key, value) for key, value in props.items()}


def _literal(key: str, value: object) -> object:
    if key.startswith("get") or not isinstance(value, str) or not value.startswith("@@="):
        return value
    return value[3:].strip("'\"")


def path_layer(layer_id: str, *, min_pixels: float, highlight_alpha: int = 200) -> pdk.Layer:
    """The props every network drawn as paths shares: widths in metres, picked, highlighted."""
    return pdk.Layer(
        "PathLayer",
        id=layer_id,
        pickable=True,
        width_units="'meters'",
        width_min_pixels=min_pixels,
        cap_rounded=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, highlight_alpha],
        _path_type="'open'",
    )


def rgba(
    values: np.ndarray, table: dict[str, tuple[int, ...]], default: tuple[int, ...]
) -> np.ndarray:
    """Map category labels to an (n, 4) uint8 RGBA array through a colour ``table``."""
    colors = np.empty((len(values), 4), dtype=np.uint8)
    colors[:] = _rgba(default)
    labels = np.asarray(values, dtype=object)
    for label, color in table.items():
        colors[labels == label] = _rgba(color)
    return colors


def _rgba(color: tuple[int, ...]) -> tuple[int, int, int, int]:
    red, green, blue = color[:3]
    return (red, green, blue, color[3] if len(color) > 3 else 255)


def legend_from(
    table: dict[str, tuple[int, ...]], present: pd.Series | None = None
) -> tuple[LegendEntry, ...]:
    """Legend rows for the categories of ``table`` (only those ``present`` if given)."""
    keep = set(pd.Series(present).unique()) if present is not None else set(table)
    return tuple(
        LegendEntry(label, tuple(color)) for label, color in table.items() if label in keep
    )
