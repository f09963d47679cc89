"""Project errors: every error a user can cause is a `ValueError` subclass that names its cause.

Kept in one module so callers (CLI, app) can catch them in one place.
"""


class MadinaError(ValueError):
    """Base class of the errors a user's input can cause."""


class CityNotFoundError(MadinaError):
    """A city bundle is missing or incomplete."""


class SourceDataError(MadinaError):
    """A raw source file (OSM extract, GeoJSON, GeoParquet) is missing or malformed."""


class LayerSpecError(MadinaError):
    """A layer cannot be built from the given data or style (names the field)."""


class NgsiError(MadinaError):
    """Entities that cannot be read; the message names the file, the entity and the field."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]
