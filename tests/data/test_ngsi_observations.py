"""TrafficFlowObserved: the traffic day out as valid entities, observations in to the telemetry
store (from files or from a broker), all or nothing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from data.interop.broker import Broker
from data.interop.ngsi_ld import NgsiError
from data.interop.ngsi_observations import (
    ingest_observations,
    observations,
    readings_of,
    traffic_flow_entities,
)
from data.telemetry.ingest import ReadingStore
from data.telemetry.sensors import sensors_for
from tests.data.test_ngsi_broker import BrokerDouble, broker_url  # noqa: F401 (a fixture)
from tests.data.test_ngsi_ld import errors_of, key_values, validators  # noqa: F401

EIGHT = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)  # 08:00 in Casablanca (UTC+1)


def flow_observed(city, **attrs) -> dict:
    """A TrafficFlowObserved of the city's first road, 07:00-08:00 on the telemetry day."""
    return {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:{city.roads['road_id'].iloc[0]}",
        "type": "TrafficFlowObserved",
        "dateObserved": "2026-11-23T07:00:00Z/2026-11-23T08:00:00Z",
        "intensity": 120,
        **attrs,
    }


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    from pathlib import Path

    import data

    return pd.read_parquet(Path(data.__file__).parent / "casablanca" / "traffic_baseline.parquet")


@pytest.fixture(scope="module")
def sensors(city_name):
    return sensors_for(city_name)


def test_the_morning_peak_exports_as_valid_traffic_observations(city, baseline, validators):  # noqa: F811
    at_eight = baseline[(baseline["hour"] == 8) & (baseline["flow_veh_h"] > 0)]
    for form in ("normalized", "keyValues"):
        entities = traffic_flow_entities(city, baseline, EIGHT, form)
        assert len(entities) == len(at_eight) > 100
        for entity in entities[::25]:
            if form == "normalized":
                assert not errors_of(validators["normalized"], entity), entity["id"]
                entity = key_values(entity)
            assert not errors_of(validators["TrafficFlowObserved"], entity), entity["id"]
    first = traffic_flow_entities(city, baseline, EIGHT, "keyValues")[0]
    assert first["dateObserved"] == "2026-11-23T07:00:00Z/2026-11-23T08:00:00Z"
    assert first["refRoadSegment"] == f"urn:ngsi-ld:RoadSegment:{at_eight.iloc[0].road_id}"
    assert first["location"]["type"] == "LineString"


def test_an_export_reads_back_as_the_roads_readings(city, baseline, sensors):
    entities = traffic_flow_entities(city, baseline, EIGHT)
    readings = readings_of(observations(entities, "export"), sensors, "export")
    # the hour's count spread over the telemetry's four 15-minute steps
    vehicles = readings[readings["variable"] == "vehicles"]
    assert sorted(vehicles["timestamp"].unique()) == [
        pd.Timestamp(EIGHT) + k * pd.Timedelta("15min") for k in range(4)
    ]
    per_hour = vehicles.groupby("sensor_id")["value"].sum()
    at_eight = baseline[(baseline["hour"] == 8) & (baseline["flow_veh_h"] > 0)]
    expected = at_eight.set_index("road_id")["flow_veh_h"].round(1)
    assert (per_hour.sort_index() - expected.sort_index()).abs().max() < 0.051
    assert set(readings["variable"]) == {"vehicles", "speed_kmh"}


def test_broker_history_enters_the_telemetry_store(broker_url, sensors, tmp_path, city):  # noqa: F811
    roads = city.roads["road_id"].iloc[:4].tolist()
    steps = [EIGHT + k * dt.timedelta(minutes=15) for k in range(8)]
    BrokerDouble.series = {
        f"urn:ngsi-ld:TrafficFlowObserved:{road}": {
            "intensity": [(t, 40.0 + k) for k, t in enumerate(steps)],
            "averageVehicleSpeed": [(t, 30.0) for t in steps],
        }
        for road in roads
    }
    table = Broker(broker_url, page_size=3).temporal(
        "TrafficFlowObserved",
        ["intensity", "averageVehicleSpeed"],
        EIGHT,
        EIGHT + dt.timedelta(hours=2),
    )
    store = ReadingStore(tmp_path / "readings", sensors)
    assert ingest_observations(table, store, broker_url) == 4 * 8 * 2
    stored = store.readings().to_frame(sensors)
    assert len(stored) == 64 and set(stored["sensor_id"]) == set(roads)

    # one bad observation among many: nothing of the batch is stored
    parts = store.parts()
    bad = pd.concat([table, pd.DataFrame([{
        "entity_id": "urn:ngsi-ld:TrafficFlowObserved:CAS-R999999", "attribute": "intensity",
        "observed_at": pd.Timestamp(EIGHT), "value": 12.0}])], ignore_index=True)  # fmt: skip
    with pytest.raises(NgsiError, match="the city has no road 'CAS-R999999'"):
        ingest_observations(bad, store, broker_url)
    assert store.parts() == parts


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"type": "TrafficFlow"}, "type: 'TrafficFlow', not one of TrafficFlowObserved"),
        ({"dateObserved": "yesterday"}, "dateObserved: 'yesterday' is not a UTC time"),
        ({"dateObserved": "2026-11-23T08:00"}, "is not a UTC time"),  # no zone
        ({"dateObserved": "2026-11-23T08:00Z/2027-01-01T00:00Z"}, "period of up to a week"),
        ({"intensity": None, "averageVehicleSpeed": None}, "none of intensity"),
        ({"intensity": -5}, "-5 is outside 0-5000 vehicles"),
        ({"intensity": "many"}, "'many' is not a number"),
        ({"averageVehicleSpeed": 1e9}, "outside 0-200 km h-1"),
        ({"id": "urn:ngsi-ld:TrafficFlowObserved:CAS-R999999"}, "the city has no road"),
        ({"id": "road-1"}, "not urn:ngsi-ld:<TrafficFlowObserved or WaterObserved>:<sensor id>"),
        ({"id": "urn:ngsi-ld:WaterObserved:DMA-nowhere"}, "the city has no district meter"),
    ],
)
def test_a_bad_observation_is_named(city, sensors, change, named):
    good = flow_observed(city, averageVehicleSpeed=35.5)
    entity = {k: v for k, v in {**good, **change}.items() if v is not None}
    with pytest.raises(NgsiError, match=named.replace("(", r"\(")) as refused:
        readings_of(observations([entity], "obs.jsonld"), sensors, "obs.jsonld")
    assert "obs.jsonld" in str(refused.value)
