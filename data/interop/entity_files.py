"""Entity files read defensively, and stores written atomically (for the NGSI-LD imports).

A file is refused before it is parsed when it is empty, over 256 MB or nested deeper than
entities are; NaN and Infinity are not JSON numbers. A store is written to a temporary file in
its folder, read back, then renamed over the old one: a failure leaves the old one whole.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import geopandas as gpd

from data.errors import NgsiError

MAX_FILE_BYTES = 256_000_000  # the whole city's light points, normalized, take ~90 MB
MAX_DEPTH = 20  # entities are shallow; deeper JSON is refused before it is walked
MAX_ENTITIES = 500_000


def load_entities(path: str | Path) -> list[dict]:
    """The entities of a JSON or JSON-LD file: a list of entities, or one entity."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size == 0:
            raise NgsiError(f"{path}: the file is empty (0 bytes)")
        if size > MAX_FILE_BYTES:
            raise NgsiError(f"{path}: {size:,} bytes; at most {MAX_FILE_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise NgsiError(f"{path}: cannot read it ({err})") from None
    return parse_entities(text, str(path))


def parse_entities(text: str, source: str = "<text>") -> list[dict]:
    """The entities of a JSON text (a list of entity objects, or one); errors name ``source``."""
    if _depth(text) > MAX_DEPTH:
        raise NgsiError(f"{source}: JSON nested deeper than {MAX_DEPTH} levels; not entities")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as err:
        raise NgsiError(f"{source}: not valid JSON ({err})") from None
    entities = data if isinstance(data, list) else [data]
    if not entities:
        raise NgsiError(f"{source}: no entity in the file")
    if len(entities) > MAX_ENTITIES:
        raise NgsiError(f"{source}: {len(entities):,} entities; at most {MAX_ENTITIES:,}")
    for k, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise NgsiError(f"{source}: entity [{k}] is a {type(entity).__name__}, not an object")
    return entities


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings (checked before json walks it)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def write_geoparquet(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as GeoParquet, atomically.

    A temporary file in the same folder is written, read back and checked, then renamed over
    ``path``. A failure leaves ``path`` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}-{secrets.token_hex(6)}.parquet")  # same folder
    try:
        frame.to_parquet(temporary, index=False)
        back = gpd.read_parquet(temporary)
        if len(back) != len(frame) or back.crs != frame.crs:
            raise NgsiError(f"{path}: the written file does not read back as written")
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path
