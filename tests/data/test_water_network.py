"""The stored water network: supplied everywhere, sized, calibrated, and its valve segments."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.water.layout import (
    CATALOGUE_MM,
    DIAMETER_MM,
    SPOT_HEIGHTS,
    demand_pattern,
    ground_elevation,
)
from data.water.network import (
    WATER_FILES,
    WaterNetworkError,
    load_water_network,
    read_water_network,
    valve_segments,
)


@pytest.fixture(scope="module")
def net(city_name):
    return load_water_network(city_name)


def test_every_street_has_its_pipe_and_every_junction_is_supplied(net, city):
    pipes = net.pipes
    assert set(pipes["road_id"]) <= set(city.roads["road_id"])
    assert len(pipes) > 0.99 * len(city.roads)  # only tiny detached street islands left out
    assert net.junctions["supplied"].all()
    open_links = pipes[pipes["status"] == "open"]
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from(zip(open_links["start_id"], open_links["end_id"], strict=True))
    sources = set(net.sources["node_id"].map(lambda n: f"J{n}"))
    reached = set().union(*(nx.node_connected_component(graph, s) for s in sources))
    assert set(net.junctions["junction_id"]) <= reached


def test_dmas_are_fed_through_prvs_and_bounded_by_closed_valves(net):
    pipes = net.pipes
    inlets = pipes[pipes["role"] == "inlet"]
    assert set(net.dmas["dma_id"]) == set(inlets["dma_id"])  # every DMA has a PRV inlet
    assert (net.dmas["n_inlets"] >= 1).all()
    assert (pipes.loc[pipes["role"] == "boundary", "status"] == "closed").all()
    # a DMA is an H3 resolution-7 cell, the id of the telemetry's district meter
    assert net.dmas["dma_id"].str.fullmatch(r"DMA-87[0-9a-f]{13}").all()


def test_pipes_are_sized_from_the_catalogue_and_never_below_their_class(net):
    pipes = net.pipes
    assert pipes["diameter_mm"].isin(CATALOGUE_MM).all()
    floor = pipes["road_class"].map(DIAMETER_MM)
    assert (pipes["diameter_mm"] >= floor).all()
    trunk = pipes[pipes["role"] == "trunk"]
    assert trunk["diameter_mm"].median() >= 500


def test_population_and_demand_match_the_census(net, city):
    people = net.junctions["population"].sum()
    assert people == pytest.approx(city.districts["population"].sum(), rel=0.001)
    assert net.dmas["population"].sum() == pytest.approx(people, rel=0.001)
    assert np.mean(demand_pattern()) == pytest.approx(1.0, abs=1e-3)


def test_model_file_matches_the_tables(net):
    wn = net.model()
    pipes = net.pipes
    assert wn.num_junctions == len(net.junctions)
    assert wn.num_valves == int((pipes["role"] == "inlet").sum())
    assert wn.num_reservoirs == len(net.sources)
    closed = [p for p in pipes.loc[pipes["status"] == "closed", "link_id"][:50]]
    assert all(str(wn.get_link(p).initial_status) == "Closed" for p in closed)
    leaking = sum(1 for _, j in wn.junctions() if j.emitter_coefficient)
    assert leaking > 0.8 * (net.junctions["dma_id"] != "trunk").sum()


def test_ground_rises_from_the_port_to_the_plateau():
    port, plateau = SPOT_HEIGHTS["Port"], SPOT_HEIGHTS["Sidi Maarouf"]
    lon = np.array([port[0], plateau[0], -7.9, -7.3])
    lat = np.array([port[1], plateau[1], 33.0, 34.0])
    z = ground_elevation(lon, lat)
    assert z[0] == pytest.approx(port[2], abs=1) and z[1] == pytest.approx(plateau[2], abs=1)
    lows, highs = (
        min(h for *_, h in SPOT_HEIGHTS.values()),
        max(h for *_, h in SPOT_HEIGHTS.values()),
    )
    assert ((z >= lows) & (z <= highs)).all()  # far away: no extrapolated cliffs


def test_valve_segments_of_a_small_line():
    """J1 -P1- J2 -P2- J3 -P3- J4 with valves on P2 at J2 and on P3 at J4: closing them
    isolates {P2, J3, P3}; {J1, P1, J2} stay together and J4 is alone: three segments."""
    pipes = pd.DataFrame(
        {
            "link_id": ["P1", "P2", "P3"],
            "start_id": ["J1", "J2", "J3"],
            "end_id": ["J2", "J3", "J4"],
            "status": "open",
            "role": "distribution",
        }
    )
    junctions = pd.DataFrame({"junction_id": ["J1", "J2", "J3", "J4"]})
    valves = pd.DataFrame({"link_id": ["P2", "P3"], "node_id": ["J2", "J4"]})
    link_seg, node_seg = valve_segments(pipes, junctions, valves)
    assert node_seg[0] == node_seg[1] == link_seg[0]  # J1, J2, P1
    assert link_seg[1] == node_seg[2] == link_seg[2]  # P2, J3, P3
    assert node_seg[3] != link_seg[2] and node_seg[3] != node_seg[0]  # J4 alone
    assert len(set(link_seg) | set(node_seg)) == 3


def test_a_missing_file_names_it_and_the_rebuild_command(tmp_path):
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_parquet(
        tmp_path / WATER_FILES[1]
    )
    with pytest.raises(WaterNetworkError, match=r"water\.inp\.gz.*python -m data\.water\.network"):
        read_water_network("casablanca", tmp_path)
