"""Suppressed telemetry hexagons on the real city: no cell of any resolution under k meters."""

import h3
import numpy as np
import pytest

from data.city.grid import parent_cells
from data.telemetry.day_cube import day_cubes, day_reporting
from data.telemetry.privacy import PrivacyError, suppressed_by_bucket
from data.telemetry.sensors import VARIABLES, sensors_for
from layers.hexagons import pack_hexagons, packed_hexagons

DAY = "2026-11-23"
K = 10


def _column(packed, descriptor, dtype):
    return np.frombuffer(packed.blob, dtype, count=descriptor["count"], offset=descriptor["offset"])


def _meters_in(city_name, kind, cells: list[str]) -> list[int]:
    """Meters of the fleet inside each cell (any resolution), from the registry directly."""
    table = sensors_for(city_name).table
    sites = table.loc[table["kind"] == kind, "cell"].to_numpy(np.uint64)
    by_res = {r: parent_cells(sites, r) for r in (7, 8, 9)} | {10: sites}
    return [int((by_res[h3.get_resolution(c)] == np.uint64(h3.str_to_int(c))).sum()) for c in cells]


@pytest.mark.parametrize("variable", ["power_w", "vehicles"])
def test_every_public_cell_holds_at_least_k_meters(city_name, variable):
    packed = packed_hexagons(city_name, DAY, variable, k=K)
    manifest = packed.manifest
    assert manifest["minContributors"] == K and manifest["byteLength"] == len(packed.blob)
    assert "highPrecision" not in manifest["deck"]  # "auto": deck.gl spots mixed resolutions
    kind = VARIABLES[variable].kind
    coarser = 0
    readings = []
    for res, part in manifest["resolutions"].items():
        cells = part["cells"]
        assert cells, f"resolution {res} shows nothing"
        meters = _meters_in(city_name, kind, cells)
        assert min(meters) >= K, (res, min(meters))
        resolutions = [h3.get_resolution(c) for c in cells]
        assert max(resolutions) <= int(res)
        coarser += sum(r < int(res) for r in resolutions)
        counts = _column(packed, part["counts"], np.uint32).reshape(24, len(cells))
        readings.append(int(counts.sum(dtype=np.int64)))
    assert coarser > 0  # merged cells stand in for their children somewhere
    assert len(set(readings)) == 1  # the four views cover the same published meters


def test_views_refine_each_other_on_the_real_city(city_name):
    manifest = packed_hexagons(city_name, DAY, "power_w", k=K).manifest
    views = {int(r): part["cells"] for r, part in manifest["resolutions"].items()}
    for res in (7, 8, 9):
        coarse = set(views[res])
        for cell in views[res + 1]:
            lineage = {h3.cell_to_parent(cell, r) for r in range(7, h3.get_resolution(cell) + 1)}
            assert len(coarse & lineage) == 1, cell


def test_suppressed_frames_are_the_suppressed_cube(city_name):
    cubes, reporting = day_cubes(city_name, DAY), day_reporting(city_name, DAY)
    public = suppressed_by_bucket(cubes[10], reporting, "road", k=K)
    packed = pack_hexagons(public, "vehicles", "Africa/Casablanca")
    for res, part in packed.manifest["resolutions"].items():
        cells = np.array([h3.str_to_int(c) for c in part["cells"]], np.uint64)
        values = _column(packed, part["values"], np.float32).reshape(24, len(cells))
        expected = public[int(res)]["vehicles"].sel(cell=cells).to_numpy()
        np.testing.assert_allclose(values, expected, rtol=1e-6, equal_nan=True)
    total = float(np.nansum(public[7]["vehicles"]))
    for view in public.values():
        assert float(np.nansum(view["vehicles"])) == pytest.approx(total, rel=1e-9)


def test_a_huge_k_withholds_everything_without_error(city_name):
    packed = packed_hexagons(city_name, DAY, "power_w", k=10**6)
    assert packed.manifest["minContributors"] == 10**6
    for part in packed.manifest["resolutions"].values():
        assert part["cells"] == [] and part["breaks"] == [] and part["legend"] == []
        assert part["values"]["count"] == 0


def test_k_zero_is_the_unsuppressed_layer_and_bad_k_is_refused(city_name):
    plain = packed_hexagons(city_name, DAY, "vehicles")
    assert packed_hexagons(city_name, DAY, "vehicles", k=0) is plain  # one cache entry
    assert "minContributors" not in plain.manifest
    assert packed_hexagons(city_name, DAY, "vehicles", k=K) is not plain
    for bad in (-1, 2.5, "10"):
        with pytest.raises(PrivacyError, match=r"^k \(fewest contributors"):
            packed_hexagons(city_name, DAY, "vehicles", k=bad)
