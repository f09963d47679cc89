"""NGSI-LD Streetlighting entities: exports valid against the models' schemas, imports that
name every problem, and hostile files that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from data.interop.entity_files import parse_entities, write_geoparquet
from data.interop.ngsi_ld import (
    NgsiError,
    cabinet_entities,
    import_streetlights,
    plain,
    read_streetlights,
    streetlight_entities,
)

SCHEMAS = Path(__file__).parent / "ngsi" / "schemas"


@pytest.fixture(scope="module")
def validators() -> dict:
    """Model name (or "normalized") -> a JSON Schema validator, $refs resolved locally."""
    schemas = [json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return {
        s["$id"].rsplit("/", 1)[1].split(".")[0]: Draft202012Validator(s, registry=registry)
        for s in schemas
    }


@pytest.fixture(scope="module")
def bounds(city) -> tuple:
    return tuple(city.lamps.total_bounds)


def errors_of(validator, entity) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(entity)]


def key_values(entity: dict) -> dict:
    """The key-values projection of a normalized entity (as a broker's options=keyValues)."""
    return {
        k: v if k in ("id", "type", "@context") else plain(entity, k) for k, v in entity.items()
    }


def test_lamps_and_cabinets_export_as_valid_entities_in_both_forms(city, validators):
    lamps = city.lamps.iloc[::700]  # 200 light points across the city
    for form in ("normalized", "keyValues"):
        lights = streetlight_entities(lamps, form)
        cabinets = cabinet_entities(city.cabinets, form)
        assert len(lights) == len(lamps) and len(cabinets) == len(city.cabinets)
        assert len({e["id"] for e in lights + cabinets}) == len(lights) + len(cabinets)
        for entity in lights + cabinets:
            if form == "normalized":
                assert not errors_of(validators["normalized"], entity), entity["id"]
                entity = key_values(entity)
            assert not errors_of(validators[entity["type"]], entity), entity["id"]
    first = streetlight_entities(lamps.iloc[:1])[0]
    assert first["id"] == f"urn:ngsi-ld:Streetlight:{lamps.iloc[0].lamp_id}"
    assert first["refStreetlightControlCabinet"] == {
        "type": "Relationship",
        "object": f"urn:ngsi-ld:StreetlightControlCabinet:{lamps.iloc[0].cabinet_id}",
    }


def test_the_schemas_do_refuse_what_is_wrong(city, validators):
    good = streetlight_entities(city.lamps.iloc[:1], "keyValues")[0]
    for change in ({"status": "fine"}, {"lanternHeight": -3}, {"location": "here"}):
        assert errors_of(validators["Streetlight"], {**good, **change}), change
    missing = {k: v for k, v in good.items() if k != "status"}
    assert "'status' is a required property" in " ".join(
        errors_of(validators["Streetlight"], missing)
    )
    flat = streetlight_entities(city.lamps.iloc[:1])[0] | {"status": "ok"}
    assert errors_of(validators["normalized"], flat)  # a bare value is not normalized


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_an_export_reads_back_as_the_same_light_points(city, bounds, form):
    lamps = city.lamps.iloc[:500]
    back = read_streetlights(streetlight_entities(lamps, form), "export", bounds)
    assert back["lamp_id"].tolist() == lamps["lamp_id"].tolist()
    assert back["power_w"].tolist() == lamps["power_w"].tolist()
    assert back["mounting_height_m"].tolist() == lamps["mounting_height_m"].tolist()
    assert back["cabinet_id"].tolist() == lamps["cabinet_id"].tolist()
    assert abs(back.geometry.x.to_numpy() - lamps.geometry.x.to_numpy()).max() < 1e-6
    assert abs(back.geometry.y.to_numpy() - lamps.geometry.y.to_numpy()).max() < 1e-6
    assert (back["status"] == "ok").all() and back.crs == "EPSG:4326"


def test_a_models_example_with_typed_dates_and_the_old_spelling_is_read(bounds):
    entity = {
        "id": "urn:ngsi-ld:Streetlight:anfa-4567",
        "type": "Streetlight",
        "status": {"type": "Property", "value": "defectiveLamp"},
        "laternHeight": {"type": "Property", "value": 10},
        "powerState": {"type": "Property", "value": "off"},
        "dateLastLampChange": {"type": "Property",
                               "value": {"@type": "DateTime", "@value": "2016-07-08T08:02:21Z"}},
        "location": {"type": "GeoProperty",
                     "value": {"type": "Point", "coordinates": [-7.63, 33.58]}},
        "@context": ["https://smart-data-models.github.io/dataModel.Streetlighting/context.jsonld"],
    }  # fmt: skip
    (light,) = read_streetlights([entity], "example", bounds).itertuples()
    assert (light.lamp_id, light.status, light.mounting_height_m) == (
        "anfa-4567",
        "defectiveLamp",
        10,
    )
    assert light.cabinet_id is None and light.power_w is not None  # NA: not given
    entity["powerRating"] = {"type": "Property", "value": 70.6}  # the twin keeps whole watts
    assert read_streetlights([entity], "example", bounds)["power_w"].tolist() == [71]


def streetlight(**change) -> dict:
    entity = {
        "id": "urn:ngsi-ld:Streetlight:L1",
        "type": "Streetlight",
        "status": "ok",
        "powerRating": 150,
        "location": {"type": "Point", "coordinates": [-7.62, 33.59]},
    }
    entity.update(change)
    return {k: v for k, v in entity.items() if v is not None}


def one(**change) -> bytes:
    """A file of one Streetlight entity with ``change``."""
    return json.dumps([streetlight(**change)]).encode()


def at(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


INFINITE = one(powerRating=123456789).replace(b"123456789", b"1e999")  # json reads inf
# name -> (file bytes, what the message must say); every case must leave the store untouched
BROKEN_FILES = {
    "empty": (b"", "the file is empty (0 bytes)"),
    "truncated": (one()[:-7], "not valid JSON"),
    "not UTF-8": (b'[{"id": "\xff\xfe"}]', "cannot read it"),
    "deeply nested": (b"[" * 50_000 + b"]" * 50_000, "nested deeper than 20 levels"),
    "a number, not entities": (b"42", "entity [0] is a int, not an object"),
    "empty list": (b"[]", "no entity in the file"),
    "NaN": (b'[{"id": "urn:ngsi-ld:Streetlight:L1", "powerRating": NaN}]', "NaN is not a JSON"),
    "wrong type": (one(type="Streetlamp"), "type: 'Streetlamp'"),
    "bad id": (one(id="L1; DROP TABLE"), "id: not urn:ngsi-ld"),
    "status a number": (one(status=5), "status: 5 is not one of"),
    "power as text": (one(powerRating="250"), "powerRating: '250' is not a number"),
    "huge power": (one(powerRating=1e300), "outside 0-2000 W"),
    "a fraction of a watt": (one(powerRating=0.5), "powerRating: 0.5 W rounds to 0 W"),
    "infinite power": (INFINITE, "powerRating: inf is not a number"),
    "no location": (one(location=None), "location: not a GeoJSON Point"),
    "out of range": (one(location=at(200, 95)), "(200, 95) is not a longitude and latitude"),
    "swapped": (one(location=at(33.59, -7.62)), "latitude and longitude look swapped"),
    "wrong CRS (metres)": (one(location=at(296_000.0, 331_000.0)), "not a longitude and latitude"),
    "elsewhere": (one(location=at(2.35, 48.85)), "is outside the city"),
    "duplicate ids": (
        json.dumps([streetlight(), streetlight()]).encode(),
        "entity [1] urn:ngsi-ld:Streetlight:L1: id: duplicate of entity [0]",
    ),
    "bad cabinet": (
        one(refStreetlightControlCabinet={"type": "Relationship", "object": 7}),
        "refStreetlightControlCabinet: not urn:ngsi-ld",
    ),
}


def test_broken_files_are_refused_naming_file_entity_and_field(tmp_path, bounds, city):
    store = tmp_path / "streetlights.parquet"
    write_geoparquet(
        read_streetlights(streetlight_entities(city.lamps.iloc[:3]), "x", bounds), store
    )
    before = store.read_bytes()
    for name, (content, named) in BROKEN_FILES.items():
        path = tmp_path / f"{name}.jsonld"
        path.write_bytes(content)
        with pytest.raises(NgsiError) as refused:
            import_streetlights(path, bounds, store)
        assert str(path) in str(refused.value) and named in str(refused.value), (
            name,
            refused.value,
        )
        assert store.read_bytes() == before, f"{name} changed the store"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".parquet") == [store.name]
    print(f"{len(BROKEN_FILES)} broken files refused, the store unchanged each time")


def test_every_problem_of_a_file_is_listed_and_a_good_file_replaces_the_store(tmp_path, bounds):
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([streetlight(id=f"urn:ngsi-ld:Streetlight:L{k}", status="?")
                                for k in range(30)]))  # fmt: skip
    with pytest.raises(NgsiError) as refused:
        import_streetlights(path, bounds, tmp_path / "store.parquet")
    assert len(refused.value.problems) == 30 and "... and 10 more" in str(refused.value)
    assert not (tmp_path / "store.parquet").exists()
    path.write_text(
        json.dumps([streetlight(id=f"urn:ngsi-ld:Streetlight:L{k}") for k in range(30)])
    )
    import_streetlights(path, bounds, tmp_path / "store.parquet")
    stored = gpd.read_parquet(tmp_path / "store.parquet")
    assert len(stored) == 30 and stored.crs == "EPSG:4326"


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)
FIELDS = ["id", "type", "status", "powerRating", "lanternHeight", "location",
          "refStreetlightControlCabinet", "laternHeight"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=JSON, normalized=st.booleans())
def test_fuzzed_entities_are_read_or_refused_never_crash(field, value, normalized):
    entity = streetlight(**{field: value})
    if normalized and field not in ("id", "type"):
        entity[field] = {"type": "Property", "value": value}
    try:
        lights = read_streetlights([entity], "fuzz", (-7.76, 33.49, -7.45, 33.64))
    except NgsiError as err:
        assert "fuzz: entity [0]" in str(err)
        return
    light = lights.iloc[0]
    assert light["status"] in ("ok", "defectiveLamp", "brokenLantern", "columnIssue")
    assert -7.81 <= light.geometry.x <= -7.40 and 33.44 <= light.geometry.y <= 33.69


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200) | JSON.map(json.dumps))
def test_fuzzed_files_parse_or_are_refused_never_crash(text):
    try:
        entities = parse_entities(text, "fuzz.json")
    except NgsiError as err:
        assert str(err).startswith("fuzz.json: ")
        return
    assert all(isinstance(e, dict) for e in entities)
    try:
        read_streetlights(entities, "fuzz.json", (-7.76, 33.49, -7.45, 33.64))
    except NgsiError as err:
        assert "fuzz.json: entity [" in str(err)
