"""The twin's languages: English, French and Arabic (right to left).

Strings are written in English in the code, passed through a translator ``t``, and looked up
in ``locales/<lang>.json``; a string with no entry shows in English. Numbers, ids and data
values are never translated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import flask

LOCALES = Path(__file__).resolve().parent / "locales"


@dataclass(frozen=True)
class Language:
    """A language of the twin: its code, its own name, and its writing direction."""

    code: str
    name: str
    direction: str  # "ltr" or "rtl"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "ltr"),
    "fr": Language("fr", "Français", "ltr"),
    "ar": Language("ar", "العربية", "rtl"),
}
DEFAULT = "en"


@functools.cache
def catalog(code: str) -> dict[str, str]:
    """English string -> its translation in language ``code`` (empty for English)."""
    path = LOCALES / f"{code}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def pick_language(asked: str | None = None) -> Language:
    """``asked`` if it is one of ours, else the browser's preferred one of ours, else English."""
    if asked in LANGUAGES:
        return LANGUAGES[asked]
    if flask.has_request_context():
        for tag, _quality in flask.request.accept_languages:  # best first; ar-MA counts as ar
            code = tag.split("-")[0].lower()
            if code in LANGUAGES:
                return LANGUAGES[code]
    return LANGUAGES[DEFAULT]


def translator(code: str | None) -> Callable[[str], str]:
    """``t(text)``: ``text`` in language ``code`` (English when there is no entry)."""
    table = catalog(code) if code in LANGUAGES else {}
    return lambda text: table.get(text, text)
