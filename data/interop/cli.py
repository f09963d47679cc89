"""The city's data to and from open formats and NGSI-LD brokers: ``python -m data.interop``.

    python -m data.interop export ngsi-ld Streetlight --out lamps.jsonld [--form keyValues]
    python -m data.interop export ngsi-ld TrafficFlowObserved --at 2026-11-23T07:00Z --out t.jsonld
    python -m data.interop export ngsi-ld observations --out latest.jsonld   (the store's latest)
    python -m data.interop export layer lamps --out lamps.geojson      (.parquet, .csv too)
    python -m data.interop import streetlights lamps.jsonld --store instance/imports/lamps.parquet
    python -m data.interop import streetlights lamps.jsonld --bundle path/to/city-bundle
    python -m data.interop import groups circuits.jsonld --bundle path/to/city-bundle
    python -m data.interop import assets poles.csv --store out.parquet --crs EPSG:26191
    python -m data.interop import buildings b.jsonld --store instance/imports/buildings.parquet
    python -m data.interop import observations counts.jsonld   (into instance/readings/<city>)
    python -m data.interop fetch http://broker:1026 Streetlight --out lamps.jsonld
    python -m data.interop fetch-history http://broker:1026 --from 2026-11-23T00:00Z --to ...

Every import is checked whole and written atomically: a bad file is named with its entity or
row and field, exits 2, and changes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from data.city import DEFAULT_CITY, bundle_dir, load_city
from data.errors import MadinaError
from data.interop.asset_files import import_assets, write_assets
from data.interop.broker import Broker
from data.interop.bundle_buildings import update_buildings
from data.interop.bundle_lamps import update_bundle
from data.interop.entity_files import load_entities, write_geoparquet
from data.interop.ngsi_buildings import building_entities, read_buildings
from data.interop.ngsi_cabinets import read_cabinets, read_groups
from data.interop.ngsi_ld import (
    cabinet_entities,
    group_entities,
    import_streetlights,
    read_streetlights,
    streetlight_entities,
)
from data.interop.ngsi_observations import (
    ingest_observations,
    latest_observation_entities,
    observations,
    traffic_flow_entities,
)
from data.settings import setting
from data.telemetry.ingest import ReadingStore
from data.telemetry.sensors import sensors_for

MODELS = ("Streetlight", "StreetlightGroup", "StreetlightControlCabinet", "Building",
          "TrafficFlowObserved", "observations")  # fmt: skip
LAYERS = ("lamps", "cabinets", "roads", "buildings", "districts")
ROOT = Path(__file__).resolve().parents[2]


def default_readings(city: str) -> Path:
    """Where imported readings go: ``instance/readings/<city>`` (or ``MADINA_READINGS_DIR``)."""
    return Path(setting("MADINA_READINGS_DIR") or ROOT / "instance" / "readings" / city)


def _utc(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MadinaError(f"{text[:40]!r} is not a time (e.g. 2026-11-23T07:00Z)") from None
    if moment.tzinfo is None:
        raise MadinaError(f"{text[:40]!r} has no time zone; add Z for UTC")
    return moment


def _write_json(entities: list[dict], out: Path) -> None:
    partial = out.with_name(f".{out.name}.part")
    partial.write_text(json.dumps(entities, ensure_ascii=False), encoding="utf-8")
    partial.replace(out)


def export(args) -> str:
    """Write a layer file or NGSI-LD entities; what was written."""
    city = load_city(args.city)
    if args.what == "layer":
        if args.name not in LAYERS:
            raise MadinaError(f"unknown layer {args.name!r}; known: {', '.join(LAYERS)}")
        path = write_assets(getattr(city, args.name), args.out)
        return f"{path}: {len(getattr(city, args.name)):,} {args.name}"
    if args.name not in MODELS:
        raise MadinaError(f"unknown model {args.name!r}; known: {', '.join(MODELS)}")
    if args.name == "Streetlight":
        entities = streetlight_entities(city.lamps, args.form)
    elif args.name == "StreetlightGroup":
        entities = group_entities(city.lamps, city.cabinets, args.form)
    elif args.name == "StreetlightControlCabinet":
        entities = cabinet_entities(city.cabinets, args.form)
    elif args.name == "Building":
        title = city.meta.get("title", args.city.title())
        entities = building_entities(city.buildings, title, form=args.form)
    elif args.name == "observations":  # the latest of each counter and meter, from the store
        folder = Path(args.readings or default_readings(args.city))
        if not any(folder.glob("part-*.parquet")):
            raise MadinaError(f"{folder}: no readings stored; import some first")
        sensors = sensors_for(args.city)
        store = ReadingStore(folder, sensors)
        entities = latest_observation_entities(
            store.readings().to_frame(sensors), sensors, args.form
        )
    else:
        if not args.at:
            raise MadinaError("TrafficFlowObserved needs --at, the hour's UTC start")
        baseline = pd.read_parquet(bundle_dir(args.city) / "traffic_baseline.parquet")
        entities = traffic_flow_entities(city, baseline, _utc(args.at), args.form)
    _write_json(entities, args.out)
    return f"{args.out}: {len(entities):,} {args.name} entities ({args.form})"


def import_(args) -> str:
    """Import a file into its store, all or nothing; what was stored."""
    city = load_city(args.city)
    bounds = tuple(city.lamps.total_bounds)
    lighting = {"streetlights": read_streetlights, "cabinets": read_cabinets, "groups": read_groups}
    if args.what in lighting and args.bundle:
        city = load_city(args.city, bundle_dir=args.bundle)
        read = lighting[args.what](load_entities(args.file), str(args.file), bounds)
        key = {"streetlights": "lights"}.get(args.what, args.what)
        done = update_bundle(city, str(args.file), **{key: read})
        return (f"{args.bundle}: {done['updated']:,} light points updated, {done['added']:,} "
                f"added, {done['moved']:,} cabinets moved, {done['rewired']:,} light points "
                f"rewired, from {args.file}")  # fmt: skip
    if args.what in ("cabinets", "groups"):
        read = lighting[args.what](load_entities(args.file), str(args.file), bounds)
        write_geoparquet(read, args.store)
        return f"{args.store}: {len(read):,} {args.what} from {args.file}"
    if args.what == "streetlights":
        lights = import_streetlights(args.file, bounds, args.store)
        return f"{args.store}: {len(lights):,} light points from {args.file}"
    if args.what == "buildings" and args.bundle:
        city = load_city(args.city, bundle_dir=args.bundle)
        buildings = read_buildings(load_entities(args.file), str(args.file), bounds)
        done = update_buildings(city, buildings, str(args.file))
        return (f"{args.bundle}: {done['updated']:,} buildings updated, {done['added']:,} added, "
                f"from {args.file}")  # fmt: skip
    if args.what == "buildings":
        buildings = read_buildings(load_entities(args.file), str(args.file), bounds)
        write_geoparquet(buildings, args.store)
        return f"{args.store}: {len(buildings):,} buildings from {args.file}"
    if args.what == "assets":
        assets = import_assets(args.file, args.store, id_column=args.id_column, crs=args.crs,
                               bounds=bounds)  # fmt: skip
        return f"{args.store}: {len(assets):,} assets from {args.file}"
    store = ReadingStore(args.readings or default_readings(args.city), sensors_for(args.city))
    table = observations(load_entities(args.file), str(args.file))
    count = ingest_observations(table, store, str(args.file))
    return f"{store.folder}: {count:,} readings from {args.file}"


def fetch(args) -> str:
    """Entities from a broker to a file, or its traffic history into the telemetry store."""
    broker = Broker(args.url, tenant=args.tenant, page_size=args.page_size)
    if args.command == "fetch":
        entities = list(broker.entities(args.type, key_values=args.form == "keyValues"))
        _write_json(entities, args.out)
        return f"{args.out}: {len(entities):,} {args.type} entities from {args.url}"
    table = broker.temporal(args.type, ["intensity", "averageVehicleSpeed"], _utc(args.start),
                            _utc(args.end))  # fmt: skip
    store = ReadingStore(args.readings or default_readings(args.city), sensors_for(args.city))
    count = ingest_observations(table, store, args.url)
    return f"{store.folder}: {count:,} readings from {args.url}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data.interop",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--city", default=DEFAULT_CITY)
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("export", help="the city's assets as NGSI-LD or as files")
    out.add_argument("what", choices=("ngsi-ld", "layer"))
    out.add_argument("name", help=f"model ({', '.join(MODELS)}) or layer ({', '.join(LAYERS)})")
    out.add_argument("--out", type=Path, required=True)
    out.add_argument("--form", choices=("normalized", "keyValues"), default="normalized")
    out.add_argument(
        "--at", help="TrafficFlowObserved: the hour's UTC start, e.g. 2026-11-23T07:00Z"
    )
    out.add_argument("--readings", type=Path, help="observations: the telemetry store folder")
    into = commands.add_parser("import", help="a file into a store (checked whole, atomic)")
    into.add_argument("what", choices=("streetlights", "cabinets", "groups", "buildings",
                                       "assets", "observations"))  # fmt: skip
    into.add_argument("file", type=Path)
    into.add_argument("--store", type=Path, help="GeoParquet file the assets go to")
    into.add_argument("--bundle", type=Path, help="streetlights, cabinets, groups, buildings: "
                      "apply them to this city bundle folder")  # fmt: skip
    into.add_argument("--id-column", default="id")
    into.add_argument("--crs", help="the file's CRS if it does not say (e.g. EPSG:26191)")
    into.add_argument("--readings", type=Path, help="telemetry store folder (observations)")
    for name in ("fetch", "fetch-history"):
        sub = commands.add_parser(name, help="entities (or traffic history) from a broker")
        sub.add_argument("url", help="the broker, e.g. http://localhost:1026")
        sub.add_argument("type", nargs="?", default="TrafficFlowObserved")
        sub.add_argument("--tenant")
        sub.add_argument("--page-size", type=int, default=100)
        sub.add_argument("--out", type=Path)
        sub.add_argument("--form", choices=("normalized", "keyValues"), default="normalized")
        sub.add_argument("--from", dest="start")
        sub.add_argument("--to", dest="end")
        sub.add_argument("--readings", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 2 with a message naming the problem otherwise."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            print(export(args))
        elif args.command == "import":
            onto_bundle = args.what in ("streetlights", "cabinets", "groups", "buildings")
            if args.what != "observations" and not (args.store or (onto_bundle and args.bundle)):
                raise MadinaError(f"import {args.what} needs --store (a .parquet file)"
                                  + (" or --bundle" if onto_bundle else ""))  # fmt: skip
            print(import_(args))
        else:
            needed = (
                {"out": "--out"} if args.command == "fetch" else {"start": "--from", "end": "--to"}
            )
            missing = [flag for name, flag in needed.items() if getattr(args, name) is None]
            if missing:
                raise MadinaError(f"{args.command} needs {' and '.join(missing)}")
            print(fetch(args))
    except MadinaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
