"""The real tram and busway network of Casablanca (OSM, 2026-01-31) in the bundle and on the map."""

import json

import geopandas as gpd
import pytest
import shapely

from data.errors import SourceDataError
from data.transit.network import (
    LINES_FILE,
    build_transit,
    load_transit,
    read_transit,
    save_transit,
    source_file,
)
from layers.transit.network import transit_line_layer, transit_stop_layer

# Stops whose place is known (OSM; checked on the map): (name, lines served, lon, lat)
KNOWN_STOPS = [
    ("Place des Nations Unies", "T1", -7.6181, 33.5951),
    ("Casa Voyageurs", "T1", -7.5920, 33.5903),
    ("Casa Port", "T3", -7.6120, 33.5983),
    ("Ain Diab Plage", "T2", -7.6808, 33.5874),
]


@pytest.fixture(scope="module")
def transit(city):
    return load_transit(city)


def test_the_bundle_holds_the_real_lines_as_the_source_has_them(city, transit):
    lines = transit.lines
    assert sorted(lines["ref"].unique()) == ["BW1", "BW2", "T1", "T2", "T3", "T4"]
    assert len(lines) == 12  # each line in both directions, one OSM route relation each
    assert lines["line_id"].str.fullmatch(r"relation/\d+").all()
    assert lines["length_km"].sum() == pytest.approx(192.7, abs=0.5)  # SOURCE.md: 192.7 km
    t1 = lines[lines["ref"] == "T1"].iloc[0]
    assert (t1["color"], t1["color_estimated"]) == ("#F38230", False)  # OSM's colour
    t3 = lines[lines["ref"] == "T3"].iloc[0]
    assert t3["color_estimated"]  # OSM has none: the twin's, and it says so
    assert set(lines["mode"]) == {"tram", "busway"}
    rebuilt = build_transit(city)  # the committed files are what the source gives
    assert (
        rebuilt.lines.drop(columns="geometry")
        .reset_index(drop=True)
        .equals(lines.drop(columns="geometry").reset_index(drop=True))
    )
    assert len(rebuilt.stops) == len(transit.stops)


def test_stops_are_merged_named_and_where_they_should_be(city, transit):
    stops = transit.stops.set_index("name")
    for name, line, lon, lat in KNOWN_STOPS:
        stop = stops.loc[name]
        assert line in stop["lines"].split(", ")
        where = gpd.GeoSeries([stop.geometry, shapely.Point(lon, lat)], crs=4326)
        metric = where.to_crs(city.crs_metric)
        assert metric.iloc[0].distance(metric.iloc[1]) < 50, name
    by_mode = transit.stops.groupby("mode").size()
    assert 90 <= by_mode["tram"] <= 130  # 218 OSM nodes: a stop position and platforms each
    assert 30 <= by_mode["busway"] <= 60  # 66 OSM nodes
    # every stop lies on a line of its mode (within a platform's offset)
    lines = transit.lines.to_crs(city.crs_metric)
    points = transit.stops.to_crs(city.crs_metric)
    for mode in ("tram", "busway"):
        track = lines[lines["mode"] == mode].union_all()
        assert points[points["mode"] == mode].distance(track).max() < 60


def test_the_layers_draw_each_line_in_its_colour_with_stops_and_legends(city, transit):
    lines = transit_line_layer(city)
    assert lines.length == 12 and lines.id_field == "line_id"
    t1 = list(transit.lines["ref"]).index("T1")
    assert tuple(lines.attributes["getColor"][t1]) == (0xF3, 0x82, 0x30, 255)
    labels = [entry.label for entry in lines.legend]
    assert "T1 tram" in labels and "T3 tram (colour chosen by the twin)" in labels
    stops = transit_stop_layer(city)
    assert stops.length == len(transit.stops)
    assert "{name}" in stops.tooltip and "{lines}" in stops.tooltip
    sources = {s["layer"]: s for s in city.meta["sources"]}
    assert "2026-01-31" in sources["transit"]["source"] and not sources["transit"]["synthetic"]
    assert "Tram and busway: OpenStreetMap, 2026-01-31 (ODbL)" in city.meta["attribution"]


def test_a_city_without_a_transit_source_has_none_and_is_not_offered(tiny_city, twin):
    assert source_file("tiny") is None
    transit = load_transit(tiny_city)
    assert transit.lines.empty and transit.stops.empty  # nothing invented
    assert transit_line_layer(tiny_city).length == 0
    layers = {m["id"] for m in twin.twin_bundle("tiny", "2026-11-23")["layers"]}
    assert "transit-lines" not in layers and "roads" in layers


def test_a_malformed_source_is_refused_naming_it(city, tmp_path):
    bad = tmp_path / "routes.geojson"
    bad.write_text("{not json")
    with pytest.raises(SourceDataError, match="routes.geojson: not a GeoJSON"):
        read_transit(bad, city.crs_metric)
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(SourceDataError, match="routes.geojson: no route LineString"):
        read_transit(bad, city.crs_metric)


def test_saved_files_are_whole_and_read_back_the_same(city, tmp_path):
    transit = load_transit(city)
    save_transit(transit, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LINES_FILE, "transit_stops.parquet"]
    back = gpd.read_parquet(tmp_path / LINES_FILE)
    assert back.crs.to_epsg() == 4326 and back.geom_equals(transit.lines.geometry).all()
