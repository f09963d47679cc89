"""What a what-if kind asks of a planner and shows back: its studio form, declared, not drawn.

A kind's `Studio` lists its fields (a number with its bounds, a list of ids picked on the
map, a choice among the city's elements...), reads the filled form into a scenario value and
turns a result into the studio's KPI rows. The page (`pages.network_studio`) draws any
kind's form from it; nothing here imports Dash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from data.errors import MadinaError

WIDGETS = ("number", "text", "ids", "choice", "choices", "check")


@dataclass(frozen=True)
class Field:
    """One field of a studio form.

    ``key`` is what the form reads (and errors name); ``id`` its component's id after
    "ns-". ``default``, ``options`` and ``placeholder`` may depend on the city: a callable
    of the city's name. ``picks(layer, fields)``: the field takes the id of a feature
    clicked on the map (an ``ids`` field appends it), emptying the fields in ``clears``.
    """

    key: str
    id: str
    label: str
    widget: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    step: float = 1
    options: Callable[[str], list[dict]] | None = None  # (city) -> [{"label", "value"}]
    placeholder: str | Callable[[str], str] = ""
    picks: Callable[[str, dict], bool] | None = None
    clears: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.widget not in WIDGETS:
            raise ValueError(f"field {self.key!r}: unknown widget {self.widget!r}; {WIDGETS}")


class FormValues(dict):
    """The filled form, by field key, with readers that name the field they refuse."""

    def number(self, key: str) -> float:
        """A number; an empty field is named."""
        value = self.get(key)
        if value is None or isinstance(value, bool):
            raise MadinaError(f"{key}: enter a number")
        return float(value)

    def whole(self, key: str) -> int:
        """A whole number (a decimal is cut); an empty field is named."""
        return int(self.number(key))

    def text(self, key: str) -> str:
        """The text, trimmed ("" if empty)."""
        return str(self.get(key) or "").strip()

    def ids(self, key: str) -> tuple[str, ...]:
        """A comma-separated list of ids."""
        return tuple(p.strip() for p in self.text(key).split(",") if p.strip())

    def chosen(self, key: str) -> tuple:
        """The values chosen in a multiple choice."""
        return tuple(self.get(key) or ())

    def ticked(self, key: str) -> bool:
        """Whether a check box is ticked."""
        return key in (self.get(key) or [])


Rows = list[tuple[str, str, str]]  # (label with its unit, today, the what-if)


@dataclass(frozen=True)
class Studio:
    """A kind's place in the networks studio: its title there, form and KPI rows.

    ``read`` None: the kind's form is a page of its own (the traffic form, whose streets
    and trips are picked on the map); it is listed and shown like the others.
    """

    title: str
    fields: tuple[Field, ...] = ()
    read: Callable[[FormValues, str], Any] | None = None  # (form, day) -> scenario value
    rows: Callable[[str, Any], Rows] | None = None  # (city, result) -> KPI rows

    def scenario(self, values: dict, day: str) -> Any:
        """The scenario the filled form describes (validated when it runs)."""
        if self.read is None:
            raise MadinaError(f"the {self.title} form is read by its own page")
        return self.read(FormValues(values), day)
