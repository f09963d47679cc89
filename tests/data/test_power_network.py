"""The generated distribution network of the embedded city: structure, counts, round trip."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from data.power.files import save_power_network
from data.power.network import PowerNetworkError, build_power_network, load_power_network


@pytest.fixture(scope="module")
def net(city):
    return load_power_network(city)


def test_every_building_and_cabinet_has_one_transformer_on_the_cabinet_feeder(city, net):
    conn, cab = net.connections, net.cabinets
    assert conn["building_id"].is_unique and len(conn) == len(city.buildings)
    assert set(conn["building_id"]) == set(city.buildings["building_id"])
    assert cab["cabinet_id"].is_unique and len(cab) == len(city.cabinets)
    tr_feeder = net.transformers.set_index("transformer_id")["feeder_id"]
    assert conn["transformer_id"].isin(tr_feeder.index).all()
    served = cab.set_index("cabinet_id")["transformer_id"].map(tr_feeder)
    original = city.cabinets.set_index("cabinet_id")["feeder_id"]
    pd.testing.assert_series_equal(served.sort_index(), original.sort_index(), check_names=False)
    # every lamp's feeder is the feeder of the transformer that feeds its cabinet
    lamp_feeder = city.lamps["cabinet_id"].map(served)
    assert (lamp_feeder.to_numpy() == city.lamps["feeder_id"].to_numpy()).all()


def test_transformers_are_sized_and_counted(net):
    tr = net.transformers
    assert tr["transformer_id"].is_unique
    assert tr["capacity_kva"].isin([400, 630, 1000, 2000, 3000]).all()
    counts = net.connections.groupby("transformer_id").size()
    assert (counts.reindex(tr["transformer_id"]).fillna(0).to_numpy() == tr["n_buildings"]).all()
    assert tr["n_buildings"].max() <= 30
    assert tr["n_cabinets"].sum() == len(net.cabinets)
    assert tr["peak_load_kw"].ge(0).all()


def test_each_feeder_is_a_tree_rooted_at_its_substation(net):
    mv = net.lines[net.lines["kind"] == "mv"]
    tr = net.transformers
    assert set(mv["feeder_id"]) == set(tr["feeder_id"])
    for feeder, lines in mv.groupby("feeder_id"):
        members = tr[tr["feeder_id"] == feeder]
        (substation,) = members["substation_id"].unique()
        graph = nx.DiGraph(list(zip(lines["from_id"], lines["to_id"], strict=True)))
        assert nx.is_arborescence(graph), feeder
        root = next(n for n, d in graph.in_degree() if d == 0)
        assert root == substation
        assert set(graph) - {root} == set(members["transformer_id"])
    assert mv["length_m"].gt(0).all()


def test_ties_are_open_and_join_two_feeders(net):
    ties = net.lines[net.lines["kind"] == "tie"]
    assert len(ties) > 0 and ties["normally_open"].all()
    assert not net.lines.loc[net.lines["kind"] == "mv", "normally_open"].any()
    feeder = net.transformers.set_index("transformer_id")["feeder_id"]
    assert (ties["from_id"].map(feeder) != ties["to_id"].map(feeder)).all()
    assert ties.groupby(["from_id", "to_id"]).size().max() == 1


def test_customers_sum_to_district_households(city, net):
    district = city.buildings.set_index("building_id")["district_id"]
    per = net.connections.groupby(net.connections["building_id"].map(district))["customers"].sum()
    households = city.districts.set_index("district_id")["households"]
    assert (per.reindex(households.index).to_numpy() == households.to_numpy()).all()
    assert net.transformers["n_customers"].sum() == households.sum()


def test_substations_feed_their_feeders(net):
    subs = net.substations
    assert 8 <= len(subs) <= 12 and subs["substation_id"].is_unique
    n = net.transformers.groupby("substation_id")["feeder_id"].nunique()
    assert (n.reindex(subs["substation_id"]).to_numpy() == subs["n_feeders"].to_numpy()).all()
    assert subs["n_feeders"].sum() == net.transformers["feeder_id"].nunique()
    load_mva = net.feeders.groupby("substation_id")["peak_load_kw"].sum() / 1000
    assert (subs.set_index("substation_id")["capacity_mva"] >= load_mva).all()


def test_stored_files_are_what_the_build_makes(city, net, tmp_path):
    built = build_power_network(city)
    for name in ("substations", "transformers", "lines", "connections", "cabinets"):
        got, want = getattr(net, name), getattr(built, name)
        if "geometry" in want:
            assert got.crs == want.crs == "EPSG:4326"
            assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()
            got, want = got.drop(columns="geometry"), want.drop(columns="geometry")
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want), check_dtype=False)
    paths = save_power_network(built, tmp_path)
    assert all(p.is_file() for p in paths)
    assert sum(p.stat().st_size for p in paths) < 5e6


def test_missing_file_names_it_and_the_rebuild_command(city, tmp_path):
    from dataclasses import replace

    moved = replace(city, meta={**city.meta, "_bundle_dir": str(tmp_path)})
    with pytest.raises(
        PowerNetworkError, match=r"power_substations\.parquet.*data\.power casablanca"
    ):
        load_power_network(moved)


def test_build_is_deterministic(city):
    a, b = build_power_network(city), build_power_network(city)
    assert np.array_equal(a.lines["n_parallel"], b.lines["n_parallel"])
    assert a.transformers.drop(columns="geometry").equals(b.transformers.drop(columns="geometry"))
