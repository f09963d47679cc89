from pages.share import parse_shared_view

LAYERS = ["districts", "roads", "buildings", "lamps"]


def test_a_good_link_reads_back_every_part():
    shared = parse_shared_view(
        {
            "layers": "roads,lamps",
            "view": "-7.6,33.58,13.5,45,-20",
            "scenario": "0123456789ab:ba9876543210",
            "variable": "energy_kwh",
            "t": "2026-11-23T08:00Z",
        },
        LAYERS,
    )
    assert shared.problems == ()
    assert shared.layers == ("roads", "lamps")
    assert shared.view == {"center": [-7.6, 33.58], "zoom": 13.5, "pitch": 45.0, "bearing": -20.0}
    assert shared.scenario_ids == ["ba9876543210", "0123456789ab"]  # reference first
    assert shared.time_ms == 1795420800000


def test_a_forged_link_names_each_bad_part_and_keeps_the_rest():
    shared = parse_shared_view(
        {
            "layers": "roads,<script>",
            "view": "-7.6,95,13,45,0",
            "scenario": "../../etc/passwd",
            "variable": "x;drop",
            "t": "yesterday",
            "debug": "1",
        },
        LAYERS,
    )
    text = " | ".join(shared.problems)
    assert "unknown link parameter(s) ['debug']" in text
    assert "unknown layer(s) ['<script>']" in text and "known: districts, roads" in text
    assert "view: latitude 95.0 is outside -85 to 85" in text
    assert "'../../etc/passwd' is not a scenario id" in text
    assert "'x;drop' is not a variable name" in text
    assert "t = 'yesterday' is not a UTC time" in text
    assert shared.layers == ("roads",)
    assert shared.view is None and shared.scenario is None and shared.time_ms is None
    assert parse_shared_view({}, LAYERS).layers is None  # no link: the page's defaults


def test_a_split_view_link_ticks_both_runs_and_needs_one_mapped_run():
    shared = parse_shared_view({"scenario": "0123456789ab", "split": "ba9876543210"}, LAYERS)
    assert shared.problems == () and shared.split == "ba9876543210"
    assert shared.scenario_ids == ["0123456789ab", "ba9876543210"]
    for query, named in [
        ({"scenario": "0123456789ab", "split": "nope"}, "split 'nope' is not a scenario id"),
        ({"scenario": "0123456789ab:ba9876543210", "split": "abcdefabcdef"}, "split needs one"),
        ({"split": "abcdefabcdef"}, "split needs one scenario on the map"),
    ]:
        shared = parse_shared_view(query, LAYERS)
        assert named in " | ".join(shared.problems) and shared.split is None, query
