"""Project errors: every error a user can cause is a `ValueError` subclass that names its cause.

All of them live here, by domain, so callers (CLI, app) catch them in one place and a newcomer
sees the whole hierarchy at once. The modules that raise them import them from here.
"""

from __future__ import annotations

from pathlib import Path

MAX_REPORTED_ROWS = 20  # a rejected file's problems spelled out in the message (all are kept)


class MadinaError(ValueError):
    """Base class of the errors a user's input can cause."""


class SettingError(MadinaError):
    """An environment variable the twin does not know, or one whose value it cannot use."""


class CityNotFoundError(MadinaError):
    """A city bundle is missing or incomplete."""


class BundleContractError(CityNotFoundError):
    """A city bundle whose files break the contract (`data.city`): columns, kinds, CRS."""


class SourceDataError(MadinaError):
    """A raw source file (OSM extract, GeoJSON, GeoParquet) is missing or malformed."""


class LayerSpecError(MadinaError):
    """A layer cannot be built from the given data or style (names the field)."""


class NgsiError(MadinaError):
    """Entities that cannot be read; the message names the file, the entity and the field."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


# --- Telemetry ----------------------------------------------------------------------------


class IngestError(MadinaError):
    """A readings file was rejected; ``problems`` lists (row, message) for every fault."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]):
        self.path, self.problems = Path(path), problems
        shown = "; ".join(
            f"row {row}: {msg}" if row else msg for row, msg in problems[:MAX_REPORTED_ROWS]
        )
        more = len(problems) - MAX_REPORTED_ROWS
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(f"{self.path.name} rejected, {len(problems)} problem(s): {shown}{tail}")


class CubeError(MadinaError):
    """A cube request names an unknown variable, resolution or bucket, or a bad file."""


class PrivacyError(MadinaError):
    """A suppression request has a bad ``k``, resolution, fleet or cube."""


# --- Interoperability (NGSI-LD, brokers, asset files) -------------------------------------


class AssetFileError(NgsiError):
    """An asset file that cannot be imported; names the file, the row and the field."""


class BrokerError(NgsiError):
    """A broker request that failed or answered something that is not NGSI-LD."""


# --- Networks -----------------------------------------------------------------------------


class WaterNetworkError(MadinaError):
    """A water network file is missing or malformed, or a request names an unknown element."""


class PowerNetworkError(MadinaError):
    """The power network of a city is missing or inconsistent (names the file or field)."""


# --- Scenarios and their runs -------------------------------------------------------------


class ScenarioParamsError(MadinaError):
    """Parameters that do not make a scenario of their kind; the message names the field."""


class ScenarioError(MadinaError):
    """A lighting scenario parameter is invalid; the message names the field."""


class WaterScenarioError(MadinaError):
    """A water scenario names an unknown pipe or DMA, or a value out of range (names it)."""


class PowerScenarioError(MadinaError):
    """An outage scenario or load-flow parameter is invalid; the message names the field."""


class TrafficScenarioError(MadinaError):
    """A traffic scenario names an unknown road or node, or a value out of range (names it)."""


class CompareError(MadinaError):
    """Two runs that cannot be compared that way; the message says why."""


class PlanError(MadinaError):
    """A plan file that cannot be run; the message names the file, the entry and the field."""


class RunCancelled(MadinaError):
    """The run's record was cancelled while it ran."""


class ScenarioStoreError(MadinaError):
    """A scenario record is missing or cannot change that way; the message says which."""


# --- Access and exports -------------------------------------------------------------------


class AccessError(MadinaError):
    """A role, user name or password cannot be used; the message says which and why."""


class VideoError(MadinaError):
    """A video that cannot be made; the message names the parameter or the step."""


# --- Not the user's input --------------------------------------------------------------------


class SumoError(RuntimeError):
    """A SUMO binary failed, timed out or is missing (names the command and its stderr)."""
