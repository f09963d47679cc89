"""Shareable links to a view of the twin: scenario, layers, camera and time in the URL's query.

``/?scenario=<id>[:<reference id>]&variable=<name>&split=<id>&layers=a,b
&view=lon,lat,zoom,pitch,bearing&t=<UTC ISO time>`` opens the page as it was shared (``split``:
a second run on a second map). Everything in a link is untrusted: each
parameter is checked, a bad one is named on the page and left out, and the rest still applies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

SCENARIO = re.compile(r"^[0-9a-f]{12}(:[0-9a-f]{12})?$")
RUN_ID = re.compile(r"^[0-9a-f]{12}$")
VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
VIEW_RANGES = (  # lon, lat, zoom, pitch, bearing
    ("longitude", -180.0, 180.0),
    ("latitude", -85.0, 85.0),
    ("zoom", 0.0, 22.0),
    ("pitch", 0.0, 75.0),
    ("bearing", -360.0, 360.0),
)


@dataclass(frozen=True)
class SharedView:
    """What a link asks for (None: not asked), and what was wrong with it."""

    layers: tuple[str, ...] | None = None
    view: dict | None = None  # center [lon, lat], zoom, pitch, bearing
    scenario: str | None = None  # "<id>" or "<id>:<reference id>"
    variable: str | None = None
    split: str | None = None  # a run of the same kind on a second map
    time_ms: int | None = None  # UTC, ms since 1970
    problems: tuple[str, ...] = field(default=())

    @property
    def scenario_ids(self) -> list[str]:
        """The runs to tick in the library: the reference first (as the library compares).

        Then the split view's second run.
        """
        ticked = self.scenario.split(":")[::-1] if self.scenario else []
        return ticked + [self.split] if self.split and self.split not in ticked else ticked


def parse_shared_view(query: dict[str, str], known_layers: list[str]) -> SharedView:
    """The view a link's query describes; bad parameters are named in ``problems``."""
    problems = []
    values: dict = {}
    unknown = sorted(set(query) - {"layers", "view", "scenario", "variable", "split", "t"})
    if unknown:
        problems.append(f"unknown link parameter(s) {unknown}")
    if "layers" in query:
        asked = [p for p in str(query["layers"]).split(",") if p]
        bad = [p for p in asked if p not in known_layers]
        if bad:
            problems.append(
                f"unknown layer(s) {bad[:5]} in the link; known: {', '.join(known_layers)}"
            )
        values["layers"] = tuple(p for p in asked if p in known_layers)
    if "view" in query:
        view = _view(str(query["view"]))
        if isinstance(view, str):
            problems.append(view)
        else:
            values["view"] = view
    if "scenario" in query:
        if SCENARIO.match(str(query["scenario"])):
            values["scenario"] = str(query["scenario"])
        else:
            problems.append(
                f"scenario {str(query['scenario'])[:40]!r} is not a scenario id (12 hex digits, "
                "or two joined by ':' for a difference)"
            )
    if "variable" in query:
        if VARIABLE.match(str(query["variable"])):
            values["variable"] = str(query["variable"])
        else:
            problems.append(f"variable {str(query['variable'])[:40]!r} is not a variable name")
    if "split" in query:
        if not RUN_ID.match(str(query["split"])):
            shown = str(query["split"])[:40]
            problems.append(f"split {shown!r} is not a scenario id (12 hex digits)")
        elif ":" in values.get("scenario", ":"):
            problems.append("split needs one scenario on the map, not a difference or none")
        else:
            values["split"] = str(query["split"])
    if "t" in query:
        moment = _time_ms(str(query["t"]))
        if moment is None:
            problems.append(
                f"t = {str(query['t'])[:40]!r} is not a UTC time (e.g. 2026-11-23T08:00Z)"
            )
        else:
            values["time_ms"] = moment
    return SharedView(**values, problems=tuple(problems))


def _view(text: str) -> dict | str:
    parts = text.split(",")
    if len(parts) != len(VIEW_RANGES):
        return f"view = {text[:60]!r} must be longitude,latitude,zoom,pitch,bearing"
    numbers = []
    for raw, (name, low, high) in zip(parts, VIEW_RANGES, strict=True):
        try:
            value = float(raw)
        except ValueError:
            return f"view: {name} {raw[:20]!r} is not a number"
        if not low <= value <= high:
            return f"view: {name} {value} is outside {low:g} to {high:g}"
        numbers.append(value)
    lon, lat, zoom, pitch, bearing = numbers
    return {"center": [lon, lat], "zoom": zoom, "pitch": pitch, "bearing": bearing}


def _time_ms(text: str) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if not 1970 <= moment.year <= 2200:
        return None
    return int(moment.timestamp() * 1000)
