"""Bytes and build time of the layer payload: binary columns vs pydeck's JSON of the same layer.

Run: python benchmarks/layer_payload.py [--city casablanca]
Prints figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time

import pydeck as pdk

from data.city import DEFAULT_CITY, load_city
from layers.catalog import LAYER_BUILDERS, build_layer
from layers.codec import pack_layer


def pydeck_json_of_lamps(city) -> str:
    """The lamps layer the plain pydeck way: one JSON object per lamp, same columns."""
    spec = build_layer(city, "lamps")
    frame = city.lamps.drop(columns="geometry").copy()
    frame["position"] = spec.attributes["getPosition"].round(6).tolist()
    frame["color"] = spec.attributes["getFillColor"].tolist()
    frame["road"] = spec.fields["road"].to_numpy()
    columns = ["position", "color", *[c for c in spec.fields if c in frame or c == "road"]]
    layer = pdk.Layer(
        "ScatterplotLayer",
        data=frame[list(dict.fromkeys(columns))],
        id="lamps",
        get_position="position",
        get_fill_color="color",
        get_radius=3.5,
        radius_units="'meters'",
        pickable=True,
    )
    return pdk.Deck(layers=[layer], map_provider=None).to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default=DEFAULT_CITY)
    args = parser.parse_args()

    started = time.perf_counter()
    city = load_city(args.city)
    load_s = time.perf_counter() - started
    print(f"city {args.city}: load_city {load_s * 1000:.0f} ms (cold)")

    sizes = {}
    total_build = 0.0
    for layer_id in LAYER_BUILDERS:
        started = time.perf_counter()
        packed = pack_layer(build_layer(city, layer_id))
        elapsed = time.perf_counter() - started
        total_build += elapsed
        manifest_bytes = len(json.dumps(packed.manifest).encode())
        sizes[layer_id] = (len(packed.blob), manifest_bytes)
        print(
            f"  {layer_id:<10} rows {packed.manifest['length']:>8,}"
            f"  blob {len(packed.blob) / 1e6:7.2f} MB"
            f"  manifest {manifest_bytes / 1e3:7.1f} kB  build+pack {elapsed * 1000:6.0f} ms"
        )
    print(f"page payload build (all layers, cold): {total_build * 1000:.0f} ms")

    blob, manifest = sizes["lamps"]
    started = time.perf_counter()
    as_json = pydeck_json_of_lamps(city).encode()
    json_s = time.perf_counter() - started
    ours = blob + manifest
    print(
        f"lamps layer: binary {ours / 1e6:.2f} MB vs pydeck JSON {len(as_json) / 1e6:.2f} MB"
        f" -> {len(as_json) / ours:.1f}x smaller"
    )
    print(
        f"lamps layer gzipped: binary {len(gzip.compress(packed_lamps(city), 6)) / 1e6:.2f} MB"
        f" vs pydeck JSON {len(gzip.compress(as_json, 6)) / 1e6:.2f} MB"
    )
    print(f"pydeck JSON serialisation of lamps: {json_s * 1000:.0f} ms")


def packed_lamps(city) -> bytes:
    packed = pack_layer(build_layer(city, "lamps"))
    return packed.blob + json.dumps(packed.manifest).encode()


if __name__ == "__main__":
    main()
