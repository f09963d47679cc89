"""The time zone of a city built from an extract: the IANA zone at its centre.

Looked up offline in timezonefinder's bundled zone boundaries (OpenStreetMap-derived, from
timezone-boundary-builder); a bundle's ``meta.json`` keeps the answer as ``time_zone``.
"""

from __future__ import annotations

import zoneinfo

from data.errors import SourceDataError


def zone_at(lon: float, lat: float) -> str:
    """The IANA time zone at (``lon``, ``lat``), e.g. ``Europe/Helsinki``.

    Raises `SourceDataError` where no land zone covers the point (pass the zone by hand then).
    """
    from timezonefinder import TimezoneFinder

    zone = TimezoneFinder().timezone_at(lng=lon, lat=lat)
    if zone is None or zone.startswith("Etc/"):
        raise SourceDataError(
            f"no time zone found at lon {lon:.4f}, lat {lat:.4f}: name it with --time-zone"
        )
    return zone


def named_zone(zone: str) -> str:
    """``zone`` if it names an IANA time zone, else `SourceDataError` naming it."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise SourceDataError(
            f"time zone {zone!r} is not an IANA time zone (e.g. Europe/Helsinki)"
        ) from err
    return zone
