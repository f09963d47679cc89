"""Pack a `LayerSpec` into a small JSON manifest plus one binary buffer of typed arrays.

Big layers travel as columns (float32 positions, uint8 colours, coded labels), never as JSON
objects per feature; the browser wraps the buffer in typed arrays without copying.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.spec import LayerSpec

ALIGN_BYTES = 8
_JS_TYPES = {
    np.dtype("float32"): "float32",
    np.dtype("uint8"): "uint8",
    np.dtype("uint16"): "uint16",
    np.dtype("uint32"): "uint32",
    np.dtype("int32"): "int32",
}
_COLOR_ACCESSORS = ("Color",)
_SEQUENTIAL_ID = re.compile(r"^(.*?)(\d+)$")


@dataclass(frozen=True)
class PackedLayer:
    """A layer ready to send: JSON-able ``manifest`` and the ``blob`` its offsets point into."""

    manifest: dict
    blob: bytes


class BlobWriter:
    """Typed arrays appended into one aligned buffer; ``add`` returns where each one lies."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, array: np.ndarray) -> dict:
        """Append ``array``; returns its descriptor (offset, count, dtype)."""
        array = np.ascontiguousarray(array)
        if array.dtype not in _JS_TYPES:
            raise TypeError(f"no typed-array type for dtype {array.dtype}")
        pad = (-self._size) % ALIGN_BYTES
        if pad:
            self._parts.append(b"\0" * pad)
            self._size += pad
        descriptor = {
            "offset": self._size,
            "count": int(array.size),
            "dtype": _JS_TYPES[array.dtype],
        }
        data = array.tobytes()
        self._parts.append(data)
        self._size += len(data)
        return descriptor

    def getvalue(self) -> bytes:
        """The buffer written so far."""
        return b"".join(self._parts)


def pack_layer(spec: LayerSpec) -> PackedLayer:
    """Encode ``spec`` as manifest + blob.

    Per-row attributes of path/polygon layers are expanded to one value per vertex, as
    deck.gl binary attributes require.
    """
    writer = BlobWriter()
    counts = None
    manifest: dict = {
        "id": spec.id,
        "title": spec.title,
        "visible": spec.visible,
        "length": spec.length,
        "deck": spec.deck_json(),
        "tooltip": spec.tooltip,
        "idField": spec.id_field,
        "legendTitle": spec.legend_title,
        "legend": [{"label": e.label, "color": list(e.color)} for e in spec.legend],
        "startIndices": None,
        "attributes": {},
        "fields": {},
    }
    if spec.start_indices is not None:
        starts = np.asarray(spec.start_indices, dtype=np.uint32)
        counts = np.diff(starts.astype(np.int64)).astype(np.int64)
        manifest["startIndices"] = writer.add(starts)
    for name, values in spec.attributes.items():
        array = np.asarray(values)
        if counts is not None and name not in ("getPath", "getPolygon"):
            array = np.repeat(array, counts, axis=0)
        size = 1 if array.ndim == 1 else int(array.shape[1])
        array = _attribute_array(name, array)
        descriptor = writer.add(array)
        descriptor["size"] = size
        if array.dtype == np.uint8 and name.endswith(_COLOR_ACCESSORS):
            descriptor["normalized"] = True
        manifest["attributes"][name] = descriptor
    for name, values in spec.fields.items():
        manifest["fields"][name] = encode_field(values, writer)
    blob = writer.getvalue()
    manifest["byteLength"] = len(blob)
    return PackedLayer(manifest=manifest, blob=blob)


def _attribute_array(name: str, array: np.ndarray) -> np.ndarray:
    if name.endswith(_COLOR_ACCESSORS):
        return array.astype(np.uint8, copy=False)
    return array.astype(np.float32, copy=False)


def encode_field(values: pd.Series | np.ndarray, writer: BlobWriter) -> dict:
    """Encode one tooltip/details column compactly.

    Numbers become float32/int32 arrays; text becomes either a sequence (common prefix +
    number, zero-padded like ``CAS-L000001`` or plain like ``J31070``: width 0) or a dictionary
    (unique values + integer codes).
    """
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series):
        return {"kind": "bool", **writer.add(series.to_numpy(dtype=np.uint8))}
    if pd.api.types.is_integer_dtype(series) and not series.isna().any():
        return {"kind": "number", **writer.add(series.to_numpy(dtype=np.int32))}
    if pd.api.types.is_numeric_dtype(series):
        return {"kind": "number", **writer.add(series.to_numpy(dtype=np.float32, na_value=np.nan))}
    text = series.fillna("").astype(str)
    sequence = _as_sequence(text)
    if sequence is not None:
        prefix, width, numbers = sequence
        return {"kind": "sequence", "prefix": prefix, "width": width, **writer.add(numbers)}
    codes, uniques = pd.factorize(text, sort=False)
    dtype = np.uint8 if len(uniques) <= 2**8 else np.uint16 if len(uniques) <= 2**16 else np.uint32
    return {"kind": "dictionary", "values": list(uniques), **writer.add(codes.astype(dtype))}


def _as_sequence(text: pd.Series) -> tuple[str, int, np.ndarray] | None:
    if text.empty or text.duplicated().any():
        return None
    parts = text.str.extract(_SEQUENTIAL_ID)
    if parts[0].isna().any() or parts[0].nunique() != 1:
        return None
    digits = parts[1]
    widths = digits.str.len()
    if int(widths.max()) > 9:
        return None
    numbers = digits.astype(np.uint32).to_numpy()
    if widths.nunique() == 1:  # zero-padded to one width (CAS-L000001)
        return str(parts[0].iloc[0]), int(widths.iloc[0]), numbers
    if (digits == pd.Series(numbers).astype(str)).all():  # plain numbers (J31070): width 0
        return str(parts[0].iloc[0]), 0, numbers
    return None


def decode_field(descriptor: dict, blob: bytes) -> list:
    """Inverse of `encode_field` (used by tests and exports to check what the browser sees)."""
    array = np.frombuffer(
        blob,
        dtype=np.dtype(descriptor["dtype"]),
        count=descriptor["count"],
        offset=descriptor["offset"],
    )
    kind = descriptor["kind"]
    if kind == "bool":
        return [bool(v) for v in array]
    if kind == "number":
        return array.tolist()
    if kind == "sequence":
        return [f"{descriptor['prefix']}{int(n):0{descriptor['width']}d}" for n in array]
    return [descriptor["values"][int(c)] for c in array]
