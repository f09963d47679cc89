"""Utility readings files: validated whole, bad rows named, a rejected file changes nothing."""

import numpy as np
import pandas as pd
import pytest

from data.telemetry.aggregate import main as aggregate_main
from data.telemetry.cube import aggregate, load_cube
from data.telemetry.ingest import IngestError, ReadingStore, read_readings
from data.telemetry.sensors import VARIABLES, sensors_for
from data.telemetry.synthetic import Period, generate

START, END = "2026-11-23 18:00", "2026-11-23 20:00"


@pytest.fixture(scope="module")
def sensors(city_name):
    return sensors_for(city_name)


@pytest.fixture(scope="module")
def good(city_name, sensors):
    """Two hours of real telemetry for a handful of sensors of every fleet, as a long table."""
    sample = np.concatenate([sensors.of_kind(k)[:5] for k in ("lamp", "road", "water")])
    batches = list(generate(city_name, Period.of(START, END), sensors=sample))
    frame = pd.concat([b.to_frame(sensors) for b in batches], ignore_index=True)
    frame = frame[frame["value"].notna()].reset_index(drop=True)
    for column in ("sensor_id", "variable", "unit"):
        frame[column] = frame[column].astype(str)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_good_file_gives_the_cube_of_the_generated_readings(
    tmp_path, good, sensors, city_name, suffix
):
    readings = read_readings(_write(good, tmp_path / f"r{suffix}"), sensors)
    assert len(readings) == len(good)
    from_file = aggregate(readings, sensors, START, END, res=9)
    sample = np.unique(sensors.codes.get_indexer(good["sensor_id"]))
    generated = generate(city_name, Period.of(START, END), sensors=sample)
    direct = aggregate(generated, sensors, START, END, res=9)
    for name in ("power_w", "vehicles", "flow_m3h", "pressure_bar"):
        np.testing.assert_allclose(from_file[name], direct[name], rtol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(from_file[f"{name}_count"], direct[f"{name}_count"])


def test_every_bad_row_is_named_with_its_row_number(tmp_path, good, sensors):
    bad = good.astype({"value": object})
    lamp_row = bad.index[bad["variable"] == "power_w"][0]
    road_row = bad.index[bad["variable"] == "vehicles"][0]
    water_row = bad.index[bad["variable"] == "pressure_bar"][0]
    bad.loc[0, "timestamp"] = "yesterday-ish"
    bad.loc[1, "sensor_id"] = "lamp-does-not-exist"
    bad.loc[2, "value"] = "NaN"
    bad.loc[3, "variable"] = "humidity"
    bad.loc[lamp_row, "value"] = "-40"  # power below 0 W
    bad.loc[road_row, "unit"] = "veh/min"
    bad.loc[water_row, "sensor_id"] = good.loc[lamp_row, "sensor_id"]  # a lamp has no pressure
    with pytest.raises(IngestError) as caught:
        read_readings(_write(bad, tmp_path / "bad.csv"), sensors)
    rows = {row for row, _ in caught.value.problems}
    assert rows == {1, 2, 3, 4, lamp_row + 1, road_row + 1, water_row + 1}
    message = str(caught.value)
    for expected in (
        "row 1: bad timestamp 'yesterday-ish'",
        "row 2: unknown sensor 'lamp-does-not-exist'",
        "row 3: value 'NaN' is not a number",
        "row 4: unknown variable 'humidity'",
        f"row {lamp_row + 1}: power_w -40 outside",
        f"row {road_row + 1}: unit 'veh/min', expected",
        f"row {water_row + 1}: sensor",
    ):
        assert expected in message
    assert message.startswith("bad.csv rejected, 7 problem(s)")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not a readable csv file"),
        (b"sensor_id,timestamp,value\nx,2026-11-23,1\n", "missing column(s) variable"),
        (b"\x00\x01garbage", "not a readable"),
    ],
)
def test_malformed_files_are_rejected_with_a_reason(tmp_path, sensors, content, expected):
    path = tmp_path / ("broken.parquet" if content.startswith(b"\x00") else "broken.csv")
    path.write_bytes(content)
    with pytest.raises(IngestError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_readings(path, sensors)


def test_unsupported_or_missing_files_are_named(tmp_path, sensors):
    with pytest.raises(IngestError, match="unsupported file type '.xlsx'"):
        (tmp_path / "r.xlsx").write_text("x")
        read_readings(tmp_path / "r.xlsx", sensors)
    with pytest.raises(IngestError, match="file not found"):
        read_readings(tmp_path / "absent.csv", sensors)


def test_a_rejected_file_leaves_the_store_unchanged(tmp_path, good, sensors):
    store = ReadingStore(tmp_path / "store", sensors)
    assert store.ingest(_write(good, tmp_path / "first.parquet")) == len(good)
    before = {p.name: p.read_bytes() for p in (tmp_path / "store").iterdir()}
    bad = good.astype({"value": object})
    bad.loc[len(bad) - 1, "value"] = "1e12"  # the last row only: everything before it is fine
    with pytest.raises(IngestError, match=f"row {len(bad)}:"):
        store.ingest(_write(bad, tmp_path / "second.csv"))
    after = {p.name: p.read_bytes() for p in (tmp_path / "store").iterdir()}
    assert after == before  # no new part, no staging file left, first part byte-identical
    assert len(store.readings()) == len(good)
    store.ingest(_write(good, tmp_path / "third.csv"))
    assert [p.name for p in store.parts()] == ["part-000001.parquet", "part-000002.parquet"]
    assert len(store.readings()) == 2 * len(good)


def test_readings_by_position_snap_to_the_nearest_sensor_of_their_fleet(tmp_path, good, sensors):
    table = sensors.table.set_index("sensor_id")
    by_position = good.copy()
    # ~1 m off: two road sensors can be 3 m apart, so a larger offset may reach the other one
    by_position["lon"] = table.loc[good["sensor_id"], "lon"].to_numpy() + 0.00001
    by_position["lat"] = table.loc[good["sensor_id"], "lat"].to_numpy()
    by_position = by_position.drop(columns="sensor_id")
    readings = read_readings(_write(by_position, tmp_path / "pos.csv"), sensors)
    np.testing.assert_array_equal(readings.sensor, sensors.codes.get_indexer(good["sensor_id"]))

    far = by_position.copy()
    far.loc[5, "lat"] += 1.0  # 111 km north: out at sea, no sensor of any fleet near
    far.loc[6, "lon"] = 500.0
    with pytest.raises(IngestError) as caught:
        read_readings(_write(far, tmp_path / "far.csv"), sensors)
    problems = dict(caught.value.problems)
    assert problems[7] == "lon/lat missing or out of range"
    kind = VARIABLES[good.loc[5, "variable"]].kind
    assert problems[6] == f"no {kind} sensor within 50 m"
    assert set(problems) == {6, 7}


def test_cli_aggregates_files_and_rejects_bad_options(tmp_path, good, capsys):
    source = _write(good, tmp_path / "export.csv")
    out = tmp_path / "cube.nc"
    assert (
        aggregate_main(
            [
                "--from",
                "2026-11-23",
                "--to",
                "2026-11-24",
                "--res",
                "8",
                "--input",
                str(source),
                "--out",
                str(out),
            ]
        )  # fmt: skip
        == 0
    )
    cube = load_cube(out)
    assert cube.attrs["h3_resolution"] == 8
    assert int(sum(cube[f"{v}_count"].sum() for v in ("power_w", "lamp_on", "vehicles",
               "speed_kmh", "flow_m3h", "pressure_bar"))) == len(good)  # fmt: skip
    assert aggregate_main(["--from", "2026-11-23", "--to", "2026-11-24", "--res", "12"]) == 2
    assert "resolution 12 is outside" in capsys.readouterr().err
    assert aggregate_main(["--from", "2026-11-23", "--to", "2026-11-24", "--kinds", "gas"]) == 2
    assert "unknown fleet(s) ['gas']" in capsys.readouterr().err
