"""Assets through GeoJSON, GeoParquet and CSV: round trips, CRS found and reprojected, and
broken files refused by name with the store left as it was."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.interop.asset_files import AssetFileError, import_assets, read_assets, write_assets

MERCHICH = "EPSG:26191"  # Merchich / Nord Maroc, the Moroccan national grid (metres)


@pytest.fixture(scope="module")
def bounds(city) -> tuple:
    return tuple(city.lamps.total_bounds)


@pytest.fixture(scope="module")
def cabinets(city) -> gpd.GeoDataFrame:
    return city.cabinets[["cabinet_id", "feeder_id", "n_lamps", "geometry"]].iloc[:80]


def same_points(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, tolerance_deg: float) -> bool:
    return bool(
        np.abs(a.geometry.x.to_numpy() - b.geometry.x.to_numpy()).max() < tolerance_deg
        and np.abs(a.geometry.y.to_numpy() - b.geometry.y.to_numpy()).max() < tolerance_deg
    )


@pytest.mark.parametrize("suffix", [".geojson", ".parquet", ".csv"])
def test_assets_go_out_and_come_back_in_each_format(tmp_path, cabinets, bounds, suffix):
    path = write_assets(cabinets, tmp_path / f"cabinets{suffix}")
    back = read_assets(path, id_column="cabinet_id", bounds=bounds)
    assert back.crs == "EPSG:4326"
    assert back["cabinet_id"].tolist() == cabinets["cabinet_id"].tolist()
    assert same_points(back, cabinets, 1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_lines_go_to_csv_as_wkt(tmp_path, city):
    roads = city.roads[["road_id", "geometry"]].iloc[:5]
    path = write_assets(roads, tmp_path / "roads.csv")
    header = path.read_text().splitlines()[0]
    assert header == "road_id,wkt"


@pytest.mark.parametrize("suffix", [".parquet", ".geojson"])
def test_a_declared_national_grid_is_reprojected_to_wgs84(tmp_path, cabinets, bounds, suffix):
    projected = cabinets.to_crs(MERCHICH)
    assert projected.geometry.x.abs().min() > 1000  # metres, not degrees
    path = tmp_path / f"grid{suffix}"
    if suffix == ".parquet":
        projected.to_parquet(path)
    else:
        projected.to_file(path, driver="GeoJSON", engine="pyogrio")
        assert json.loads(path.read_text())["crs"]["properties"]["name"].endswith("26191")
    back = read_assets(path, id_column="cabinet_id", bounds=bounds)
    assert same_points(back, cabinets, 1e-6)  # pyproj there and back: the same points


def test_a_csv_in_the_national_grid_needs_its_crs_named(tmp_path, cabinets, bounds):
    projected = cabinets.to_crs(MERCHICH)
    table = projected.drop(columns="geometry").assign(
        x=projected.geometry.x, y=projected.geometry.y
    )
    path = tmp_path / "grid.csv"
    table.to_csv(path, index=False)
    with pytest.raises(AssetFileError, match="no 'lon' column"):
        read_assets(path, id_column="cabinet_id")
    back = read_assets(path, id_column="cabinet_id", crs=MERCHICH, bounds=bounds)
    assert same_points(back, cabinets, 1e-6)
    # metres in lon/lat columns: the CRS is missing, and the message says so
    table.rename(columns={"x": "lon", "y": "lat"}).to_csv(path, index=False)
    with pytest.raises(AssetFileError, match="a projected CRS .metres.. give the file's CRS"):
        read_assets(path, id_column="cabinet_id")


def test_a_declared_crs_that_contradicts_the_asked_one_is_refused(tmp_path, cabinets):
    path = tmp_path / "grid.parquet"
    cabinets.to_crs(MERCHICH).to_parquet(path)
    with pytest.raises(AssetFileError, match="declares EPSG:26191, not EPSG:4326 as asked"):
        read_assets(path, id_column="cabinet_id", crs="EPSG:4326")


def csv(*rows: str) -> bytes:
    return ("\n".join(["id,lon,lat", *rows]) + "\n").encode()


# name -> (file name, bytes, options, what the message must say)
BROKEN_FILES = {
    "empty": ("a.csv", b"", {}, "the file is empty (0 bytes)"),
    "unknown format": ("a.shp", b"x", {}, "unknown format '.shp'"),
    "truncated GeoJSON": ("a.geojson", b'{"type": "FeatureCollection", "features": [{"ty', {},
                          "not valid JSON"),
    "deeply nested GeoJSON": ("a.geojson", b"[" * 99_999 + b"]" * 99_999, {}, "nested too deep"),
    "not GeoParquet": ("a.parquet", b"PAR1 but not really", {}, "not a readable GeoParquet file"),
    "no lat column": ("a.csv", b"id,lon\n1,-7.6\n", {}, "no 'lat' column"),
    "no id column": ("a.csv", b"name,lon,lat\nx,-7.6,33.6\n", {}, "no 'id' column"),
    "text in lon": ("a.csv", csv("1,-7.6,33.6", "2,-7.6,33.6", "3,abc,33.6"), {},
                    "row 3: lon 'abc' is not a number"),
    "infinite lat": ("a.csv", csv("1,-7.6,inf"), {}, "row 1: lat 'inf' is not a number"),
    "duplicate ids": ("a.csv", csv("A,-7.6,33.6", "A,-7.61,33.61"), {},
                      "row 2: id 'A' is a duplicate of row 1"),
    "empty id": ("a.csv", csv(",-7.6,33.6"), {}, "row 1: id is empty"),
    "swapped": ("a.csv", csv("A,33.6,-7.6"), {}, "latitude and longitude look swapped"),
    "out of range": ("a.csv", csv("A,-7.6,133.6"), {}, "is not a longitude and latitude"),
    "elsewhere": ("a.csv", csv("A,2.35,48.85"), {}, "is outside the city"),
    "bad CRS": ("a.csv", b"id,x,y\nA,1,2\n", {"crs": "EPSG:999999"}, "'EPSG:999999' is unknown"),
}  # fmt: skip


def test_broken_files_are_refused_by_name_and_change_nothing(tmp_path, cabinets, bounds):
    store = tmp_path / "store" / "assets.parquet"
    write_assets(cabinets, store)
    before = store.read_bytes()
    for name, (file_name, content, options, named) in BROKEN_FILES.items():
        path = tmp_path / name.replace(" ", "-") / file_name
        path.parent.mkdir()
        path.write_bytes(content)
        with pytest.raises(AssetFileError) as refused:
            import_assets(path, store, bounds=bounds, **options)
        message = str(refused.value)
        assert str(path) in message and named in message, (name, message)
        assert store.read_bytes() == before, f"{name} changed the store"
    assert [p.name for p in store.parent.iterdir()] == [store.name]
    print(f"{len(BROKEN_FILES)} broken asset files refused, the store unchanged each time")


CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(CELL, CELL, CELL), max_size=6))
def test_fuzzed_csv_files_are_read_or_refused_never_crash(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.csv"
    path.write_text("id,lon,lat\n" + "\n".join(",".join(r) for r in rows), encoding="utf-8")
    try:
        assets = read_assets(path, bounds=(-7.76, 33.49, -7.45, 33.64))
    except AssetFileError as err:
        assert str(path) in str(err)
        return
    assert assets.crs == "EPSG:4326" and assets["id"].is_unique
