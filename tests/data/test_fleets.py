"""The contract of every sensor fleet in the registry, checked on the tiny city: adding a fleet
is enough for its sensors to be registered and its readings generated like the others'."""

import numpy as np
import pandas as pd
import pytest

from data.telemetry.fleet import Fleet, Variable
from data.telemetry.fleets import FLEETS, KINDS, VARIABLES
from data.telemetry.readings import VARIABLE_NAMES
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import Period, generate
from tests.conftest import TELEMETRY_DAY


@pytest.mark.parametrize("fleet", FLEETS, ids=[f.kind for f in FLEETS])
def test_every_fleet_registers_its_sensors_and_generates_its_variables(tiny_city, fleet):
    own = fleet.sensors(tiny_city)
    assert list(own.columns) == ["sensor_id", "lon", "lat"] and len(own) > 0
    assert own["sensor_id"].is_unique
    west, south, east, north = tiny_city.lamps.total_bounds
    assert own["lon"].between(west - 0.05, east + 0.05).all()
    assert own["lat"].between(south - 0.05, north + 0.05).all()
    registry = sensors_for(tiny_city.name)
    rows = registry.of_kind(fleet.kind)
    assert (registry.table["sensor_id"].iloc[rows].to_numpy() == own["sensor_id"].to_numpy()).all()

    day = pd.Timestamp(TELEMETRY_DAY)
    period = Period.of(day, day + pd.Timedelta(hours=6))
    readings = list(generate(tiny_city.name, period, kinds=(fleet.kind,)))
    names = {VARIABLE_NAMES[code] for r in readings for code in np.unique(r.variable)}
    assert names == set(fleet.variables)
    for r in readings:
        variable = fleet.variables[VARIABLE_NAMES[int(r.variable[0])]]
        values = r.value[~np.isnan(r.value)]
        assert ((values >= variable.valid_min) & (values <= variable.valid_max)).all()
    expected = len(rows) * len(period.times) * len(fleet.variables)
    assert sum(len(r.value) for r in readings) == expected


def test_fleets_and_their_variables_are_named_once():
    assert len(set(KINDS)) == len(FLEETS)
    assert sum(len(f.variables) for f in FLEETS) == len(VARIABLES)


def test_a_fleet_holding_another_fleets_variable_is_refused():
    stray = Variable("road", "vehicles", "vehicles counted", "sum", 0, 10)
    with pytest.raises(ValueError, match=r"fleet 'bins' holds variables of another.*'vehicles'"):
        Fleet("bins", "Waste bins", {"vehicles": stray}, FLEETS[0].sensors, FLEETS[0].synthetic)
