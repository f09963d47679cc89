"""Lighting scenarios as plain data: JSON round trip, schedule text, and the ready-made plans.

What a browser form or a file sends is checked here field by field before it becomes a
`LightingScenario`; nothing here runs a simulation.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse

from simulation.lighting.model import (
    ESTONIAN_SCHEDULE,
    DimmingStep,
    LightingScenario,
    ScenarioError,
)

_FIELDS = {f.name: f for f in dataclasses.fields(LightingScenario)}
_TUPLES_OF_STR = ("districts", "road_classes", "motion_road_classes")
# Ready-made plans: the figures the white paper quotes, as starting points for a planner.
LATE_NIGHT_20 = (DimmingStep(5, 23, 1.0), DimmingStep(23, 5, 0.2))
PRESETS: dict[str, LightingScenario] = {
    "baseline": LightingScenario(name="Today's stock (baseline)"),
    "led": LightingScenario(name="LED everywhere", led_share_pct=100),
    "led-estonian": LightingScenario(
        name="LED + Estonian dimming (50% after 23:00, 20% 01-05)",
        led_share_pct=100,
        dimming=ESTONIAN_SCHEDULE,
    ),
    "led-late-20": LightingScenario(
        name="LED + 20% from 23:00 to 05:00", led_share_pct=100, dimming=LATE_NIGHT_20
    ),
    "led-motion": LightingScenario(
        name="LED + motion-adaptive residential streets",
        led_share_pct=100,
        dimming=ESTONIAN_SCHEDULE,
        motion_road_classes=("residential",),
    ),
}


def scenario_to_dict(scenario: LightingScenario) -> dict:
    """JSON-able dict of ``scenario`` (`scenario_from_dict` gives it back exactly)."""
    out = dataclasses.asdict(scenario)
    out["dimming"] = [[s.start_h, s.end_h, s.level] for s in scenario.dimming]
    for name in (*_TUPLES_OF_STR, "peak_hours"):
        out[name] = list(out[name])
    return out


def scenario_from_dict(data: object) -> LightingScenario:
    """A `LightingScenario` from untrusted JSON-like data.

    Unknown fields and wrong types raise `ScenarioError` naming the field; ranges are checked
    later by `LightingScenario.validate` (it needs the city).
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"a scenario must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ScenarioError(f"unknown scenario field(s) {unknown}")
    values: dict = {}
    for name, raw in data.items():
        if name in ("name", "retrofit_order", "switching"):
            values[name] = _text(name, raw)
        elif name in _TUPLES_OF_STR:
            if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
                raise ScenarioError(f"{name} must be a list of names")
            values[name] = tuple(raw)
        elif name == "dimming":
            values[name] = _steps(raw)
        elif name == "peak_hours":
            pair = raw if isinstance(raw, list | tuple) else ()
            if len(pair) != 2:
                raise ScenarioError("peak_hours must be [start_h, end_h]")
            values[name] = (_number("peak_hours", pair[0]), _number("peak_hours", pair[1]))
        elif name == "seed":
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise ScenarioError(f"seed must be an integer, got {raw!r}")
            values[name] = raw
        else:
            values[name] = _number(name, raw)
    return LightingScenario(**values)


def _text(name: str, raw: object) -> str:
    if not isinstance(raw, str) or len(raw) > 200:
        raise ScenarioError(f"{name} must be a text of at most 200 characters")
    return raw


def _number(name: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise ScenarioError(f"{name} must be a number, got {raw!r}")
    return float(raw)


def _steps(raw: object) -> tuple[DimmingStep, ...]:
    if not isinstance(raw, list | tuple):
        raise ScenarioError("dimming must be a list of [start_h, end_h, level] steps")
    steps = []
    for k, step in enumerate(raw):
        if not isinstance(step, list | tuple) or len(step) != 3:
            raise ScenarioError(f"dimming[{k}] must be [start_h, end_h, level]")
        steps.append(DimmingStep(*(_number(f"dimming[{k}]", v) for v in step)))
    return tuple(steps)


_STEP = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s+(\d{1,3})\s*%?\s*$")


def parse_schedule(text: str) -> tuple[DimmingStep, ...]:
    """Steps from text such as ``"05-23 100%; 23-01 50%; 01-05 20%"`` (local hours, level %).

    Entries are separated by ``;`` or new lines; hours may carry minutes (``22:30``). The
    steps must then tile the day (`schedule_levels` checks it). A malformed entry raises
    `ScenarioError` quoting it.
    """
    steps = []
    for k, entry in enumerate(e for e in re.split(r"[;\n]", text) if e.strip()):
        match = _STEP.match(entry)
        if not match:
            raise ScenarioError(
                f"dimming entry {k + 1} {entry.strip()!r}: write it as 'HH-HH level%', "
                "e.g. '23-01 50%'"
            )
        h1, m1, h2, m2, level = match.groups()
        start = int(h1) + int(m1 or 0) / 60
        end = int(h2) + int(m2 or 0) / 60
        steps.append(DimmingStep(start, end, int(level) / 100))
    if not steps:
        raise ScenarioError("dimming: the schedule is empty")
    return tuple(steps)


def format_schedule(steps: tuple[DimmingStep, ...]) -> str:
    """The text `parse_schedule` reads back into ``steps``."""

    def hour(h: float) -> str:
        whole, minutes = int(h), round((h - int(h)) * 60)
        return f"{whole:02d}:{minutes:02d}" if minutes else f"{whole:02d}"

    return "; ".join(f"{hour(s.start_h)}-{hour(s.end_h)} {round(s.level * 100)}%" for s in steps)


def playback_request(args: dict) -> tuple[LightingScenario, str, str | None]:
    """(scenario, mode, day) of a time-lapse request (``scenario`` as JSON, ``mode``, ``day``).

    The scenario's ranges are checked when it runs (they need the city).
    """
    try:
        data = json.loads(args.get("scenario", ""))
    except ValueError as err:
        raise ScenarioError(f"scenario is not valid JSON: {err}") from None
    mode = args.get("mode", "day")
    day = args.get("day") or None
    if mode == "day" and day is None:
        raise ScenarioError("day is required for a day playback (YYYY-MM-DD)")
    return scenario_from_dict(data), mode, day if mode == "day" else None


def playback_query(scenario: LightingScenario, mode: str, day: str | None) -> str:
    """The query string `playback_request` reads back."""
    query = {"scenario": json.dumps(scenario_to_dict(scenario), separators=(",", ":"))}
    query["mode"] = mode
    if mode == "day" and day:
        query["day"] = day
    return urllib.parse.urlencode(query)
