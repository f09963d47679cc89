"""`python -m data.build <city>`: build a city bundle, then what is derived from it beside it.

``python -m data.build casablanca`` or ``... NAME --osm FILE.osm.pbf``. Prints progress and
counts. Never touches an existing bundle unless the new one was written completely. Writing a
bundle replaces its folder, so the parts stored beside it (the water and electricity networks,
the traffic engine's baseline day) are rebuilt after it (``--no-networks`` skips them): the
parts registered in `data.build.parts`, each in its domain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from data.build.cities import STREETS, build_casablanca, build_from_osm, step
from data.build.parts import bundle_parts
from data.city import bundle_dir, load_city
from data.city.constants import SEED
from data.errors import MadinaError


def build_networks(name: str, out: Path) -> list[str]:
    """(Re)build the registered parts (networks, traffic baseline) beside the bundle at ``out``.

    Prints progress. Returns the rebuild commands of the parts that failed (the error is
    printed), so one failing part neither hides the others nor undoes the bundle written.
    """
    city = load_city.__wrapped__(name, bundle_dir=out)  # the bundle just written, not a cached one
    failed = []
    started = time.perf_counter()
    for part in bundle_parts():
        try:
            step(f"{part.title}: {part.build(city, out)}", started)
        except Exception as err:  # reported with the command that retries it
            print(f"error: {part.title} not built: {err!r}", file=sys.stderr)
            failed.append(part.retry.format(city=name))
    return failed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m data.build",
        description="Build a city bundle and what is derived from it.",
    )
    parser.add_argument(
        "city", help="city name (folder under data/); 'casablanca' is the embedded default"
    )
    parser.add_argument("--osm", type=Path, help="OpenStreetMap extract (.osm.pbf) to build from")
    parser.add_argument("--out", type=Path, help="output folder (default data/<city>/)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--streets",
        choices=STREETS,
        default="procedural",
        help="casablanca only: build on the procedural streets (the default today) or on "
        "the real OpenStreetMap streets (a preview: buildings are not yet in the real blocks)",
    )
    parser.add_argument(
        "--time-zone",
        help="the city's IANA time zone, e.g. Europe/Helsinki (default: the zone at the "
        "extract's centre)",
    )
    parser.add_argument(
        "--no-networks",
        dest="networks",
        action="store_false",
        help="write the bundle only; the water and electricity networks are not rebuilt",
    )
    args = parser.parse_args(argv)
    out = args.out or bundle_dir(args.city)
    try:
        if args.osm is not None:
            build_from_osm(args.city, args.osm, out, seed=args.seed, time_zone=args.time_zone)
        elif args.city == "casablanca":
            build_casablanca(out, seed=args.seed, streets=args.streets)
        else:
            parser.error(f"no built-in source for {args.city!r}: pass --osm FILE.osm.pbf")
    except MadinaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = build_networks(args.city, out) if args.networks else []
    if failed:
        print(f"the bundle is written; retry with: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
