"""Small-count suppression: no public view, alone or differenced, shows fewer than k meters.

Crafted registries of meters at chosen H3 cells go through the real `CubeBuilder`; the
suppressed views are checked against the rule's invariants and against a plain recursive
reading of the rule (two routes to one answer).
"""

import numpy as np
import pandas as pd
import pytest
from h3.api import basic_int as h3i

from data.errors import MadinaError
from data.telemetry.cube import CUBE_RESOLUTIONS, CubeBuilder
from data.telemetry.privacy import (
    MIN_CONTRIBUTORS,
    WITHHELD,
    Contributors,
    PrivacyError,
    contributors,
    display_cells,
    suppressed_cube,
)
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import VARIABLES, Sensors

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # not in the test extra yet: the seeded layouts below still run
    given = None

HOURS = 3
START = pd.Timestamp("2026-11-23")
FLEET_VARIABLES = {"lamp": ("power_w", 100.0), "road": ("vehicles", 40.0)}
HOUSEHOLD = {"power_w": 777.0, "vehicles": 4321.0}  # one meter's distinctive readings
CENTRE = h3i.latlng_to_cell(33.57, -7.59, 7)  # central Casablanca


def _children(cell: int, res: int) -> list[int]:
    return sorted(h3i.cell_to_children(cell, res))


def _ancestry(cell: int) -> list[int]:
    """``cell`` and its parents down to resolution 7."""
    return [h3i.cell_to_parent(cell, r) for r in range(7, h3i.get_resolution(cell) + 1)]


def registry(layout: dict[int, int], household: int | None = None) -> Sensors:
    """``layout[cell]`` lamp meters and as many road counters at each res-10 cell."""
    rows = []
    for cell, n in layout.items():
        lat, lon = h3i.cell_to_latlng(cell)
        for kind in FLEET_VARIABLES:
            rows += [(f"{kind}-{cell:x}-{i}", kind, lon, lat, cell) for i in range(n)]
    table = pd.DataFrame(rows, columns=["sensor_id", "kind", "lon", "lat", "cell"])
    table["cell"] = table["cell"].astype(np.uint64)
    if household is not None:  # the first meter of that cell is the household
        table["household"] = table["sensor_id"].str.endswith(f"-{household:x}-0")
    return Sensors(city="crafted", table=table)


def hourly_cube(sensors: Sensors, seed: int = 0):
    """A res-10 cube of one reading per meter and hour: ordinary values vary around a mean."""
    rng = np.random.default_rng(seed)
    table, parts = sensors.table, []
    for hour in range(HOURS):
        time = np.full(len(table), (START + pd.Timedelta(hours=hour)).to_datetime64())
        code, value = np.zeros(len(table), np.int8), np.zeros(len(table), np.float32)
        for kind, (name, typical) in FLEET_VARIABLES.items():
            rows = sensors.of_kind(kind)
            code[rows] = VARIABLE_NAMES.index(name)
            value[rows] = typical * rng.uniform(0.8, 1.2, len(rows))
            if "household" in table:
                value[rows[table["household"].to_numpy()[rows]]] = HOUSEHOLD[name]
        parts.append(Readings(np.arange(len(table), dtype=np.int32), time, code, value))
    builder = CubeBuilder(
        sensors, START, START + pd.Timedelta(hours=HOURS), freq="1h", res=10,
        variables=[v for v, _ in FLEET_VARIABLES.values()],
    )  # fmt: skip
    for batch in parts:
        builder.add(batch)
    return builder.dataset()


def reference_display(counts: dict[int, int], res: int, k: int) -> dict[int, int]:
    """The rule read literally, cell by cell, from the top of the tree (0: withheld)."""
    out = dict.fromkeys(counts, 0)

    def total(cell: int) -> int:
        r = h3i.get_resolution(cell)
        return sum(n for c, n in counts.items() if h3i.cell_to_parent(c, r) == cell)

    def descend(cell: int) -> None:
        r = h3i.get_resolution(cell)
        members = [c for c in counts if h3i.cell_to_parent(c, r) == cell]
        children = {h3i.cell_to_parent(c, r + 1) for c in members} if r < 10 else set()
        if r == res or not children or any(total(child) < k for child in children):
            out.update(dict.fromkeys(members, cell))
        else:
            for child in children:
                descend(child)

    for top in {h3i.cell_to_parent(c, 7) for c in counts}:
        if total(top) >= k:
            descend(top)
    return out


def check_public_views(cube, fleet: Contributors, k: int) -> dict:
    """Every invariant of the rule on the four views; returns them (res -> Dataset)."""
    counts = dict(zip(fleet.cells.tolist(), fleet.counts.tolist(), strict=True))
    top_totals: dict[int, int] = {}
    for cell, n in counts.items():
        top = h3i.cell_to_parent(cell, 7)
        top_totals[top] = top_totals.get(top, 0) + n
    published = {c for c in counts if top_totals[h3i.cell_to_parent(c, 7)] >= k}
    views = {r: suppressed_cube(cube, fleet, r, k=k) for r in CUBE_RESOLUTIONS}
    names = [n for n, var in VARIABLES.items() if var.kind == fleet.kind and n in cube]
    for r, view in views.items():
        assert view.attrs["min_contributors"] == k and view.attrs["suppressed"] == 1
        assert set(view.data_vars) == {v for n in names for v in (n, f"{n}_count")}
        shown = [int(c) for c in view["cell"].to_numpy()]
        assert len(set(shown)) == len(shown)
        assert all(h3i.get_resolution(c) <= r for c in shown)
        # contributors by another route: the meters whose res-10 cell descends from the cell
        inside = {c: [m for m in counts if h3i.cell_to_parent(m, h3i.get_resolution(c)) == c]
                  for c in shown}  # fmt: skip
        expected = [sum(counts[m] for m in inside[c]) for c in shown]
        assert view["contributors"].to_numpy().tolist() == expected
        assert all(n >= k for n in expected)
        # a partition of the published meters: each in exactly one shown cell, others in none
        covering = {m: sum(a in set(shown) for a in _ancestry(m)) for m in counts}
        assert covering == {m: int(m in published) for m in counts}
        # merged values are what a roll-up gives: sums and reading counts add up exactly
        members = cube.sel(cell=np.array(sorted(published), np.uint64))
        for name in names:
            total_count = int(members[f"{name}_count"].sum())
            assert int(view[f"{name}_count"].sum()) == total_count
            if VARIABLES[name].aggregation == "sum":
                assert float(view[name].sum()) == pytest.approx(float(members[name].sum()))
    for r in CUBE_RESOLUTIONS[:-1]:  # nested: a cell of view r+1 lies in one cell of view r
        coarse = {int(c) for c in views[r]["cell"].to_numpy()}
        for fine in views[r + 1]["cell"].to_numpy():
            assert len(coarse.intersection(_ancestry(int(fine)))) == 1
    for r in CUBE_RESOLUTIONS:  # the vectorised rule is the literal one
        got = display_cells(fleet, r, k=k)
        assert {int(c): int(d) for c, d in got.items()} == reference_display(counts, r, k)
    return views


@pytest.fixture(scope="module")
def crafted():
    """Three res-7 cells around the centre, laid out so each part of the rule is exercised.

    P: a household meter alone in its res-10 cell h, beside 12 meters (cell b, same res-9
    cell H9) and 20 (cell g, res-9 cell G9), all in res-8 cell A8; 25 + 11 meters in two res-9
    cells of B8. Q: 3 meters only (withheld). R: 4 meters in one res-8 cell, 30 in another
    (shown whole, never split).
    """
    p, q, r = CENTRE, *sorted(set(h3i.grid_disk(CENTRE, 1)) - {CENTRE})[:2]
    a8, b8 = _children(p, 8)[:2]
    h9, g9 = _children(a8, 9)[:2]
    x9, y9 = _children(b8, 9)[:2]
    cells = {
        "h": _children(h9, 10)[0],
        "b": _children(h9, 10)[1],
        "g": _children(g9, 10)[0],
        "x": _children(x9, 10)[0],
        "y": _children(y9, 10)[0],
        "q": _children(q, 10)[0],
        "r1": _children(_children(r, 8)[0], 10)[0],
        "r2": _children(_children(r, 8)[1], 10)[0],
    }
    meters = {"h": 1, "b": 12, "g": 20, "x": 25, "y": 11, "q": 3, "r1": 4, "r2": 30}
    sensors = registry({cells[n]: meters[n] for n in cells}, household=cells["h"])
    names = {"p": p, "q": q, "r": r, "a8": a8, "b8": b8, "h9": h9, "g9": g9, "x9": x9, "y9": y9}
    names.update(cells)
    return names, sensors, hourly_cube(sensors)


@pytest.mark.parametrize("kind", ["lamp", "road"])
def test_the_household_meter_shows_in_no_view(crafted, kind):
    cells, sensors, cube = crafted
    fleet = contributors(sensors, kind)
    assert fleet.total == 106 and len(fleet.cells) == 8
    views = check_public_views(cube, fleet, MIN_CONTRIBUTORS)
    name = FLEET_VARIABLES[kind][0]
    shown = {r: {int(c) for c in view["cell"].to_numpy()} for r, view in views.items()}
    for view in views.values():
        assert not np.isclose(view[name].to_numpy(), HOUSEHOLD[name]).any()
        assert cells["h"] not in {int(c) for c in view["cell"].to_numpy()}
    # the household's cell is merged with its neighbour b: res-9 cell H9 in views 9 and 10
    assert shown[7] == {cells["p"], cells["r"]}  # Q (3 meters) withheld, R whole
    assert shown[8] == {cells["a8"], cells["b8"], cells["r"]}
    assert shown[9] == {cells["h9"], cells["g9"], cells["x9"], cells["y9"], cells["r"]}
    assert shown[10] == {cells["h9"], cells["g"], cells["x"], cells["y"], cells["r"]}
    # H9's value: the household's readings diluted by b's 12 meters, never its own
    h9 = views[10].sel(cell=np.uint64(cells["h9"]))
    assert int(h9["contributors"]) == 13
    members = cube.sel(cell=np.array([cells["h"], cells["b"]], np.uint64))
    if VARIABLES[name].aggregation == "mean":
        expected = (members[name] * members[f"{name}_count"]).sum("cell") / members[
            f"{name}_count"
        ].sum("cell")
    else:
        expected = members[name].sum("cell")
    np.testing.assert_allclose(h9[name], expected, rtol=1e-9)


def test_k_of_one_publishes_every_cell_at_its_own_resolution(crafted):
    _, sensors, cube = crafted
    fleet = contributors(sensors, "road")
    views = check_public_views(cube, fleet, 1)
    np.testing.assert_array_equal(views[10]["cell"], np.sort(fleet.cells))
    np.testing.assert_allclose(views[10]["vehicles"], cube["vehicles"].sel(cell=fleet.cells))


def test_a_huge_k_withholds_everything(crafted):
    _, sensors, cube = crafted
    fleet = contributors(sensors, "lamp")
    assert set(display_cells(fleet, 10, k=10**6)) == {int(WITHHELD)}
    view = suppressed_cube(cube, fleet, 9, k=10**6)
    assert view.sizes == {"time": HOURS, "cell": 0}
    assert set(view.data_vars) == {"power_w", "power_w_count"}


def test_contributors_are_distinct_meters_of_one_fleet(crafted):
    _, sensors, _ = crafted
    doubled = Sensors("crafted", pd.concat([sensors.table, sensors.table.head(5)]))
    assert contributors(doubled, "lamp").total == contributors(sensors, "lamp").total == 106
    assert contributors(sensors, "water").total == 0


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "10", None])
def test_a_bad_k_is_refused_by_name(crafted, k):
    _, sensors, cube = crafted
    fleet = contributors(sensors, "lamp")
    with pytest.raises(PrivacyError, match=r"^k \(fewest contributors"):
        display_cells(fleet, 9, k=k)
    with pytest.raises(MadinaError, match="must be an integer >= 1"):
        suppressed_cube(cube, fleet, 9, k=k)


def test_bad_requests_name_their_cause(crafted):
    _, sensors, cube = crafted
    fleet = contributors(sensors, "lamp")
    assert issubclass(PrivacyError, ValueError)
    with pytest.raises(PrivacyError, match="display resolution 6"):
        display_cells(fleet, 6)
    with pytest.raises(PrivacyError, match="unknown sensor fleet 'gas'"):
        contributors(sensors, "gas")
    with pytest.raises(PrivacyError, match="resolution-10 cube, got resolution 9"):
        suppressed_cube(cube.assign_attrs(h3_resolution=9), fleet, 9)
    with pytest.raises(PrivacyError, match="no variable of the 'water' fleet"):
        suppressed_cube(cube, Contributors("water", fleet.cells, fleet.counts), 9)


# Random layouts over a small tree: 2 res-7 cells x 2 res-8 x 2 res-9 x 3 res-10 children.
POOL = [
    c10
    for c7 in (CENTRE, sorted(h3i.grid_disk(CENTRE, 1))[0])
    for c8 in _children(c7, 8)[:2]
    for c9 in _children(c8, 9)[:2]
    for c10 in _children(c9, 10)[:3]
]


def _check_layout(layout: dict[int, int], k: int, seed: int = 0) -> None:
    sensors = registry(layout)
    cube = hourly_cube(sensors, seed)
    for kind in FLEET_VARIABLES:
        check_public_views(cube, contributors(sensors, kind), k)


@pytest.mark.parametrize("seed", range(12))
def test_seeded_random_layouts_keep_the_invariants(seed):
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(POOL), rng.integers(1, 16), replace=False)
    layout = {POOL[i]: int(rng.integers(1, 25)) for i in picked}
    _check_layout(layout, int(rng.integers(1, 16)), seed)


if given is not None:

    @settings(max_examples=50, deadline=None)
    @given(
        layout=st.dictionaries(st.sampled_from(POOL), st.integers(1, 25), min_size=1, max_size=14),
        k=st.integers(1, 15),
    )
    def test_random_layouts_keep_the_invariants(layout, k):
        _check_layout(layout, k)

else:

    @pytest.mark.skip(reason="hypothesis is not installed (add it to the test extra)")
    def test_random_layouts_keep_the_invariants():
        pass
