"""A bundle that breaks the contract is refused when it loads, naming the file and the fault."""

import shutil

import geopandas as gpd
import pytest

from data.city import load_city
from data.errors import BundleContractError


@pytest.fixture
def copy_of_tiny(tiny_city, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_city.folder, folder)
    return folder


def _rewrite(folder, layer, change):
    path = folder / f"{layer}.parquet"
    frame = gpd.read_parquet(path)
    change(frame).to_parquet(path)


def _load(folder):
    return load_city("broken", bundle_dir=folder)


def test_the_tiny_and_the_embedded_bundles_keep_the_contract(tiny_city, city):
    assert len(tiny_city.lamps) and len(city.lamps)


def test_a_missing_column_is_named(copy_of_tiny):
    _rewrite(copy_of_tiny, "lamps", lambda f: f.drop(columns=["power_w"]))
    with pytest.raises(BundleContractError, match=r"lamps\.parquet: .*missing \['power_w'\]"):
        _load(copy_of_tiny)


def test_a_column_of_the_wrong_kind_is_named(copy_of_tiny):
    _rewrite(copy_of_tiny, "roads", lambda f: f.assign(lanes=f["lanes"].astype(str)))
    with pytest.raises(
        BundleContractError, match=r"roads\.parquet: columns of the wrong kind: lanes"
    ):
        _load(copy_of_tiny)


def test_a_projected_file_is_refused(copy_of_tiny):
    _rewrite(copy_of_tiny, "districts", lambda f: f.to_crs(3857))
    with pytest.raises(BundleContractError, match=r"districts\.parquet: CRS must be EPSG:4326"):
        _load(copy_of_tiny)


def test_points_where_lines_belong_are_refused(copy_of_tiny):
    _rewrite(copy_of_tiny, "roads", lambda f: f.set_geometry(f.geometry.representative_point()))
    with pytest.raises(BundleContractError, match=r"roads\.parquet: \['Point'\] geometries"):
        _load(copy_of_tiny)
