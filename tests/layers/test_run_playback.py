import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from layers.run_playback import DIVERGING, diverging_classes, packed_run_playback

CELLS = np.array(sorted(h3.grid_disk(h3.latlng_to_cell(33.5731, -7.5898, 9), 1)), dtype=np.uint64)


def _run(values) -> xr.Dataset:
    times = pd.date_range("2026-11-22T23:00", periods=len(values), freq="h")
    data = np.zeros((len(values), len(CELLS)), dtype=np.float32)
    data[:, : len(values[0])] = values
    ds = xr.Dataset(
        {
            "delay_veh_h": (
                ("time", "cell"),
                data,
                {"units": "veh-h", "long_name": "delay", "cell_aggregation": "sum"},
            )
        },
        coords={"time": times, "cell": CELLS},
    )
    ds.attrs["h3_resolution"] = 9
    return ds


def test_diverging_classes_are_centred_on_zero():
    values = np.array([-30.0, -1.0, 0.0, 0.0, 2.0, 30.0, np.nan])
    uppers, legend = diverging_classes(values, "veh-h")
    assert len(uppers) == len(legend) == len(DIVERGING) == 7
    assert uppers[2] == -uppers[3] and uppers[2] < 0  # the middle class straddles zero
    assert uppers[1] == -uppers[4] and uppers[0] == -uppers[5]
    assert legend[3]["label"].startswith("no change (within ±")
    assert legend[3]["color"][:3] == [247, 247, 247]  # neutral
    assert legend[0]["color"][:3] == [33, 102, 172] and legend[6]["color"][:3] == [178, 24, 43]
    assert "veh-h" in legend[0]["label"] and legend[6]["label"].startswith("more than +")


def test_a_run_and_its_difference_pack_as_playable_hexagons():
    scenario = _run([[5.0, 1.0], [0.0, 3.0]])
    reference = _run([[2.0, 1.0], [4.0, 0.0]])
    plain = packed_run_playback("casablanca", scenario, "delay_veh_h", title="Run")
    assert plain.manifest["kind"] == "library" and not plain.manifest["difference"]
    assert plain.manifest["epochs"] == [
        int(pd.Timestamp("2026-11-22T23:00").value // 10**6),
        int(pd.Timestamp("2026-11-23T00:00").value // 10**6),
    ]
    assert plain.manifest["times"][0] == "Mon 23 Nov 2026 00:00"  # local time
    res9 = plain.manifest["resolutions"]["9"]
    assert len(res9["cells"]) == 2  # untouched cells are left out

    diff = packed_run_playback(
        "casablanca", scenario, "delay_veh_h", title="Change", reference=reference
    )
    entry = diff.manifest["resolutions"]["9"]
    values = np.frombuffer(
        diff.blob, np.float32, entry["values"]["count"], entry["values"]["offset"]
    ).reshape(2, -1)
    by_cell = dict(zip(entry["cells"], values.T.tolist(), strict=True))
    first, second = (h3.int_to_str(int(c)) for c in CELLS[:2])
    assert by_cell[first] == pytest.approx([3.0, -4.0])
    assert by_cell[second] == pytest.approx([0.0, 3.0])
    assert entry["legend"][3]["label"].startswith("no change")
