"""What is derived from a bundle and stored beside it: each part lives in its domain.

A part (the electricity network, the water network, the traffic engine's baseline day...)
registers itself as an entry point of the group ``madina.bundle_parts`` in pyproject.toml, so
the build runs it without importing the engines it needs (`simulation` sits above `data`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GROUP = "madina.bundle_parts"


@dataclass(frozen=True)
class BundlePart:
    """One derived part: its name, when it is built, how, and the command that retries it."""

    title: str
    order: int  # parts are built in increasing order (a later one may read an earlier one)
    build: Callable[[object, Path], str]  # (the city just written, its folder) -> a summary
    retry: str  # with {city}


def bundle_parts() -> list[BundlePart]:
    """The registered parts, in build order."""
    parts = [entry.load() for entry in importlib.metadata.entry_points(group=GROUP)]
    return sorted(parts, key=lambda part: part.order)
