"""Imported light points onto a copy of the Casablanca bundle: updated, added, or refused whole."""

from __future__ import annotations

import json
import shutil

import pytest

from data.bundle_lamps import update_bundle
from data.city import bundle_dir, load_city
from data.interop import main
from data.ngsi_ld import NgsiError, read_streetlights, streetlight_entities


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
    assert update_bundle(city, lights, "retrofit") == {"updated": 2, "added": 1}

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
            update_bundle(city, lights, "x.jsonld")
    path = bundle / "broken.jsonld"
    path.write_text(json.dumps([template, {**template, "status": "on fire"}]))
    assert main(["import", "streetlights", str(path), "--bundle", str(bundle)]) == 2
    assert "status: 'on fire' is not one of" in capsys.readouterr().err
    path.unlink()
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before
