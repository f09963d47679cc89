"""Imported lighting and buildings onto a copy of the bundle: updated, added, or refused whole."""

from __future__ import annotations

import json
import shutil

import pytest

from data.city import bundle_dir, load_city
from data.interop.bundle_buildings import update_buildings
from data.interop.bundle_lamps import update_bundle
from data.interop.cli import main
from data.interop.ngsi_buildings import building_entities, read_buildings
from data.interop.ngsi_cabinets import read_cabinets, read_groups
from data.interop.ngsi_ld import (
    NgsiError,
    cabinet_entities,
    group_entities,
    read_streetlights,
    streetlight_entities,
)


@pytest.fixture()
def bundle(tmp_path, city_name):
    """A copy of the embedded bundle, loaded from its own folder."""
    folder = tmp_path / city_name
    shutil.copytree(bundle_dir(city_name), folder)
    return folder


def loaded(folder, city_name):
    load_city.cache_clear()  # the copy changes under the same name
    return load_city(city_name, bundle_dir=folder)


def new_light(template: dict, lamp_id: str, lon: float, lat: float, **attrs) -> dict:
    entity = {**template, "id": f"urn:ngsi-ld:Streetlight:{lamp_id}"}
    entity["location"] = {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [lon, lat]},
    }
    for name, value in attrs.items():
        entity[name] = {"type": "Property", "value": value}
    return entity


def test_known_lights_are_updated_and_new_ones_added(bundle, city_name):
    city = loaded(bundle, city_name)
    entities = streetlight_entities(city.lamps.iloc[:2])
    entities[0]["powerRating"]["value"] = 70
    entities[0]["lampTechnology"] = {"type": "Property", "value": "LED"}
    entities.append(new_light(entities[1], "ANFA-NEW-1", -7.6350, 33.5880))
    lights = read_streetlights(entities, "retrofit", tuple(city.lamps.total_bounds))
    done = update_bundle(city, "retrofit", lights=lights)
    assert done == {"updated": 2, "added": 1, "moved": 0, "rewired": 0}

    after = loaded(bundle, city_name)
    assert len(after.lamps) == len(city.lamps) + 1
    lamps = after.lamps.set_index("lamp_id")
    first = lamps.loc[city.lamps.lamp_id.iloc[0]]
    assert (first.technology, first.power_w, first.synthetic) == ("LED", 70, False)
    added = lamps.loc["ANFA-NEW-1"]
    assert added.road_id in set(city.roads.road_id) and added.district_id in set(
        city.districts.district_id
    )
    assert added.cabinet_id == city.lamps.cabinet_id.iloc[1] and added.feeder_id.startswith("CAS-F")
    cabinet = after.cabinets.set_index("cabinet_id").loc[added.cabinet_id]
    assert cabinet.n_lamps == (after.lamps.cabinet_id == added.cabinet_id).sum()
    assert json.loads((bundle / "meta.json").read_text())["counts"]["lamps"] == len(after.lamps)
    assert (bundle / "water.inp.gz").is_file() and not list(bundle.glob(".*"))  # others untouched


def test_a_refused_import_leaves_the_bundle_byte_for_byte(bundle, city_name, capsys):
    city = loaded(bundle, city_name)
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    template = streetlight_entities(city.lamps.iloc[:1])[0]
    plain_new = new_light(template, "NEW-2", -7.62, 33.59)
    del plain_new["description"]  # no technology
    wrong_cabinet = dict(template)
    nowhere = "urn:ngsi-ld:StreetlightControlCabinet:CAS-C99999"
    wrong_cabinet["refStreetlightControlCabinet"] = {"type": "Relationship", "object": nowhere}
    for entity, named in [
        (plain_new, "light point NEW-2: a new light point needs technology"),
        (wrong_cabinet, "the city has no cabinet 'CAS-C99999'"),
    ]:
        lights = read_streetlights([entity], "x.jsonld", tuple(city.lamps.total_bounds))
        with pytest.raises(NgsiError, match=named):
            update_bundle(city, "x.jsonld", lights=lights)
    path = bundle / "broken.jsonld"
    path.write_text(json.dumps([template, {**template, "status": "on fire"}]))
    assert main(["import", "streetlights", str(path), "--bundle", str(bundle)]) == 2
    assert "status: 'on fire' is not one of" in capsys.readouterr().err
    path.unlink()
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


def test_cabinets_move_and_groups_rewire_their_light_points(bundle, city_name):
    city = loaded(bundle, city_name)
    bounds = tuple(city.lamps.total_bounds)
    first, second = city.cabinets.cabinet_id.iloc[:2]
    cabinets = cabinet_entities(city.cabinets.iloc[:1], "keyValues")
    cabinets[0]["location"]["coordinates"] = [-7.6301, 33.5901]
    groups = read_groups(
        group_entities(city.lamps, city.cabinets.iloc[:2], "keyValues"), "g", bounds
    )
    members = {g.group_id: g.lamp_ids for g in groups.itertuples()}
    assert members[first] == city.lamps.lamp_id[city.lamps.cabinet_id == first].tolist()
    moving = members[second][:3]  # three light points of the second circuit go to the first
    groups.at[0, "lamp_ids"] = members[first] + moving
    groups.at[1, "lamp_ids"] = members[second][3:]
    done = update_bundle(city, "circuits", cabinets=read_cabinets(cabinets, "c", bounds),
                         groups=groups)  # fmt: skip
    assert (done["moved"], done["rewired"]) == (1, 3)
    after = loaded(bundle, city_name)
    lamps = after.lamps.set_index("lamp_id")
    assert (lamps.loc[moving, "cabinet_id"] == first).all()
    feeder = after.cabinets.set_index("cabinet_id").loc[first]
    assert (lamps.loc[moving, "feeder_id"] == feeder.feeder_id).all()
    assert feeder.n_lamps == len(members[first]) + 3
    assert abs(feeder.geometry.x + 7.6301) < 1e-9 and not feeder.synthetic


def test_bad_circuits_are_refused_by_name(bundle, city_name):
    city = loaded(bundle, city_name)
    bounds = tuple(city.lamps.total_bounds)
    two = group_entities(city.lamps, city.cabinets.iloc[:2], "keyValues")
    shared = dict(two[1], refStreetlight=two[0]["refStreetlight"][:1] + two[1]["refStreetlight"])
    with pytest.raises(NgsiError, match="is already in group"):
        read_groups([two[0], shared], "g.jsonld", bounds)
    for change, named in [
        ({"refStreetlight": []}, "refStreetlight: not a list of 1 to 5,000"),
        ({"refStreetlight": ["L1"]}, r"refStreetlight\[0\]: not urn:ngsi-ld:Streetlight"),
        ({"refStreetlightControlCabinet": None}, "refStreetlightControlCabinet: not urn"),
    ]:
        entity = {k: v for k, v in {**two[0], **change}.items() if v is not None}
        with pytest.raises(NgsiError, match=named):
            read_groups([entity], "g.jsonld", bounds)
    ghost = dict(two[0], refStreetlight=["urn:ngsi-ld:Streetlight:CAS-L999999"])
    with pytest.raises(NgsiError, match="the city has no light point CAS-L999999"):
        update_bundle(city, "g.jsonld", groups=read_groups([ghost], "g.jsonld", bounds))
    stray = cabinet_entities(city.cabinets.iloc[:1], "keyValues")[0]
    stray["id"] = "urn:ngsi-ld:StreetlightControlCabinet:CAS-C99999"
    with pytest.raises(NgsiError, match="cabinet CAS-C99999: not in the city"):
        update_bundle(city, "c.jsonld", cabinets=read_cabinets([stray], "c.jsonld", bounds))
    with pytest.raises(NgsiError, match="workingMode: 'sometimes'"):
        read_cabinets([dict(stray, workingMode="sometimes")], "c.jsonld", bounds)


def test_buildings_are_updated_and_added_onto_the_bundle(bundle, city_name):
    city = loaded(bundle, city_name)
    bounds = tuple(city.lamps.total_bounds)
    entities = building_entities(city.buildings.iloc[:2], "Casablanca", form="keyValues")
    entities[0]["floorsAboveGround"], entities[0]["height"] = 9, 28.5
    square = [[-7.6352, 33.5881], [-7.6350, 33.5881], [-7.6350, 33.5883], [-7.6352, 33.5883],
              [-7.6352, 33.5881]]  # fmt: skip
    entities.append({**entities[1], "id": "urn:ngsi-ld:Building:ANFA-NEW-B1",
                     "location": {"type": "Polygon", "coordinates": [square]},
                     "floorsAboveGround": 4, "height": None})  # fmt: skip
    entities[-1] = {k: v for k, v in entities[-1].items() if v is not None}
    done = update_buildings(city, read_buildings(entities, "b", bounds), "b")
    assert done == {"updated": 2, "added": 1}
    after = loaded(bundle, city_name).buildings.set_index("building_id")
    assert len(after) == len(city.buildings) + 1
    first = after.loc[city.buildings.building_id.iloc[0]]
    assert (first.levels, first.height_m, first.height_estimated) == (9, 28.5, False)
    added = after.loc["ANFA-NEW-B1"]
    assert (added.levels, added.height_m, added.height_estimated) == (4, 12.0, True)
    assert added.district_id in set(city.districts.district_id)
    meta = json.loads((bundle / "meta.json").read_text())
    assert meta["counts"]["buildings"] == len(after) and meta["counts"]["lamps"] == len(city.lamps)
    assert not list(bundle.glob(".*"))
