"""Every setting the twin reads from the environment: its name, default, meaning and check.

One table for the app, the command lines and the README (its settings table is generated from
`SETTINGS` and checked by a test). Values are read when asked for, so a changed environment is
seen; a bad value raises the domain's error naming the variable. Never reads files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from data.errors import AccessError, PrivacyError, SettingError


def _text(name: str, text: str) -> str:
    return text


def _whole_meters(name: str, text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise PrivacyError(f"{name}={text!r} is not a whole number of meters") from None
    from data.telemetry.privacy import check_k  # the one rule of k (1 and up)

    return check_k(k)


def _hours(name: str, text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise AccessError(f"{name}={text!r} is not a number of hours") from None
    if not hours > 0:
        raise AccessError(f"{name}={text!r}: a login must last more than 0 hours")
    return hours


def _rate(name: str, text: str) -> str:
    from limits import parse_many

    try:
        parse_many(text.strip())
    except ValueError:
        raise AccessError(
            f"{name}={text!r} is not a rate; write it as '10 per 15 minutes'"
        ) from None
    return text.strip()


def _flag(name: str, text: str) -> bool:
    return text == "1"


def _port(name: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingError(f"{name}={text!r} is not a TCP port (1-65535)")
    return int(text)


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default (None: unset), what it means, how it is read."""

    name: str
    default: str | None
    meaning: str
    parse: Callable[[str, str], Any] = _text


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("MADINA_CITY", "casablanca", "the embedded city the app serves"),
        Setting(
            "MADINA_TELEMETRY_DAY", None, "local day (YYYY-MM-DD) of the telemetry on the map "
            "(unset: yesterday)",
        ),
        Setting(
            "MADINA_SCENARIO_DB", None, "the scenario database file (unset: "
            "`instance/scenarios.sqlite`); its run queue and videos sit beside it",
        ),
        Setting("MADINA_USER_DB", None, "the accounts file (unset: `instance/users.sqlite`)"),
        Setting(
            "MADINA_SECRET_KEY", None, "signs sessions and render passes; set it in production "
            "(unset: a random key, sessions end when the server restarts)",
        ),
        Setting("MADINA_SESSION_HOURS", "8", "how long a login lasts (hours)", _hours),
        Setting("MADINA_SECURE_COOKIES", None, "`1` behind HTTPS: cookies only over HTTPS", _flag),
        Setting(
            "MADINA_LOGIN_LIMIT", "10 per 15 minutes", "failed log-ins allowed per address and "
            "per user name (Flask-Limiter's notation)", _rate,
        ),
        Setting(
            "MADINA_MIN_CONTRIBUTORS", "10", "k: the fewest meters behind a public H3 cell",
            _whole_meters,
        ),
        Setting(
            "MADINA_RENDER_URL", None, "where the server's video renderer reaches the twin "
            "(unset: the address the server listens on)",
        ),
        Setting("MADINA_CHROMIUM", "/usr/bin/chromium", "the Chromium that films videos"),
        Setting(
            "MADINA_READINGS_DIR", None, "where imported readings are stored (unset: "
            "`instance/readings/<city>`)",
        ),
        Setting(
            "MADINA_DASK_SCHEDULER", None, "a Dask scheduler (`tcp://host:8786`) for "
            "`python -m data.telemetry.aggregate` (unset: in this process)",
        ),
        Setting("HOST", "127.0.0.1", "the address `python app.py` listens on"),
        Setting("PORT", "8050", "the port `python app.py` listens on", _port),
        Setting(
            "MADINA_RUN_SLOW", None, "tests: `1` also runs the slow end-to-end cases", _flag
        ),
        Setting(
            "MADINA_REQUIRE_BROWSER", None, "tests: `1` fails, instead of skipping, the "
            "browser tests when Chromium is missing", _flag,
        ),
    )
}  # fmt: skip


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value of setting ``name``: its variable's, checked, else its default (or None).

    An empty variable counts as unset. Raises `SettingError` for a name not in `SETTINGS`, or
    the domain's error (naming the variable) for a value that cannot be used.
    """
    try:
        entry = SETTINGS[name]
    except KeyError:
        raise SettingError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}") from None
    text = (os.environ if environ is None else environ).get(name, "").strip()
    if not text:
        return None if entry.default is None else entry.parse(name, entry.default)
    return entry.parse(name, text)


def settings_table() -> str:
    """The README's table of settings (Markdown), one row per entry of `SETTINGS`."""
    rows = [
        f"| `{s.name}` | {f'`{s.default}`' if s.default is not None else 'unset'} | {s.meaning} |"
        for s in SETTINGS.values()
    ]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows])
