"""Batch scenarios from the command line, into the database the dashboard reads.

    python -m simulation run plan.yaml [--db PATH] [--author NAME]
    python -m simulation list [--db PATH]
    python -m simulation export-video <scenario> [--from 18:00] [--to 23:00] [--fps 4] [...]

A plan (YAML or JSON) names its city and lists scenarios, each a ``kind``, a ``name`` and its
``params`` (the fields of that kind; see README). The whole plan is validated before the first
run: a bad entry stops everything, naming the entry and the field, and stores nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from data.city import DEFAULT_CITY
from data.errors import MadinaError, PlanError
from data.store.scenarios import ScenarioStore, default_db_path
from simulation.runs import execute, prepare, submit

MAX_PLAN_BYTES = 1_000_000


@dataclass(frozen=True)
class PlannedScenario:
    """One entry of a plan, checked: its kind, name and parameters."""

    kind: str
    name: str
    params: dict


def read_plan(path: Path) -> tuple[str, str | None, list[PlannedScenario]]:
    """(city, author or None, entries) of a plan file, every entry validated for the city."""
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise PlanError(f"{path}: larger than {MAX_PLAN_BYTES:,} bytes; is it a plan?")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PlanError(f"{path}: cannot read it ({err})") from None
    try:
        plan = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        form = "JSON" if path.suffix == ".json" else "YAML"
        raise PlanError(f"{path}: not valid {form}: {err}") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("scenarios"), list):
        raise PlanError(f"{path}: a plan is a mapping with a 'scenarios' list")
    if not plan["scenarios"]:
        raise PlanError(f"{path}: 'scenarios' is empty")
    city = plan.get("city", DEFAULT_CITY)
    author = plan.get("author")
    if not isinstance(city, str) or (author is not None and not isinstance(author, str)):
        raise PlanError(f"{path}: 'city' and 'author' must be texts")
    entries = []
    for k, entry in enumerate(plan["scenarios"]):
        where = f"{path}: scenarios[{k}]"
        if not isinstance(entry, dict):
            raise PlanError(f"{where} must be a mapping with kind, name and params")
        unknown = sorted(set(entry) - {"kind", "name", "params"})
        if unknown:
            raise PlanError(f"{where}: unknown key(s) {unknown}; use kind, name and params")
        name = entry.get("name") or f"{entry.get('kind')} #{k + 1}"
        if not isinstance(name, str):
            raise PlanError(f"{where}: name must be a text")
        try:
            prepare(entry.get("kind"), entry.get("params", {}), city)
        except MadinaError as err:
            raise PlanError(f"{where} ({name}): {err}") from None
        entries.append(PlannedScenario(entry["kind"], name, entry.get("params", {})))
    return city, author, entries


def run_plan(path: Path, store: ScenarioStore, author: str | None) -> int:
    """Run every scenario of the plan with a progress bar; the number that failed."""
    city, plan_author, entries = read_plan(path)
    author = author or plan_author or getpass.getuser()
    failed = 0
    for k, entry in enumerate(entries, start=1):
        record = submit(
            store, kind=entry.kind, params=entry.params, city=city, name=entry.name, author=author
        )
        label = f"[{k}/{len(entries)}] {entry.name}"
        with tqdm(
            total=100, desc=label, unit="%", bar_format="{l_bar}{bar}| {elapsed}{postfix}"
        ) as bar:

            def progress(fraction: float, message: str, bar=bar) -> None:
                bar.update(round(100 * fraction) - bar.n)
                bar.set_postfix_str(message)

            record = execute(store, record.id, progress)
            if record.status == "done":
                bar.update(100 - bar.n)
                bar.set_postfix_str(f"done in {record.runtime_s:.1f} s")
        if record.status == "done":
            print(f"  {record.id}  {record.kind}  stored {store.result_path(record)}")
        else:
            failed += 1
            print(f"  {record.id}  {record.status}: {record.error}", file=sys.stderr)
    return failed


def list_records(store: ScenarioStore) -> None:
    """Print the stored scenarios, newest first."""
    for r in store.records():
        runtime = f"{r.runtime_s:.1f} s" if r.runtime_s is not None else ""
        print(f"{r.id}  {r.created_at}  {r.status:<11} {r.kind:<10} {runtime:>8}  {r.name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulation``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulation", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a plan's scenarios into the database")
    run.add_argument("plan", type=Path, help="plan file (.yaml, .yml or .json)")
    run.add_argument("--author", help="recorded author (default: the plan's, else your login)")
    listing = commands.add_parser("list", help="list the stored scenarios")
    video = commands.add_parser(
        "export-video",
        help="film a stored run's time-lapse to MP4 (H.264) and GIF",
        description="Film a stored run's time-lapse, as the twin draws it, to MP4 and GIF.",
    )
    video.add_argument("scenario", help="the stored run's id (see `list`)")
    video.add_argument("--from", dest="start", help="first frame: number, HH:MM or local "
                       "date-time (default: the first)")  # fmt: skip
    video.add_argument("--to", dest="end", help="last frame, as --from (default: the last)")
    video.add_argument("--fps", type=float, default=4.0, help="frames per second (default 4)")
    video.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    video.add_argument("--variable", help="the variable to map (default: the kind's main one)")
    video.add_argument("--against", help="a reference run: film the difference")
    video.add_argument("--split", help="a second run of the same kind on a second map")
    video.add_argument("--layers", help="layers to show, e.g. districts,roads (default: the "
                       "page's; each layer costs render time)")  # fmt: skip
    video.add_argument("--view", help="camera: longitude,latitude,zoom,pitch,bearing")
    video.add_argument("--out", default=".", help="folder for the files (default: here)")
    for sub in (run, listing, video):
        sub.add_argument(
            "--db", type=Path, default=None, help=f"scenario database (default {default_db_path()})"
        )
    args = parser.parse_args(argv)
    store = ScenarioStore(args.db)
    if args.command == "list":
        list_records(store)
        return 0
    if args.command == "export-video":
        from video.cli import export_from_cli

        try:
            made = export_from_cli(args, store)
        except MadinaError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"  {made.mp4}\n  {made.gif}")
        print(f"  {made.frames} frames, {made.seconds:.1f} s of video; twin page "
              f"{made.page_s:.1f} s, filming {made.film_s / made.frames:.2f} s and encoding "
              f"{made.encode_s / made.frames:.2f} s per frame")  # fmt: skip
        return 0
    try:
        failed = run_plan(args.plan, store, args.author)
    except MadinaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
