"""The contract of every layer in the catalogue, checked on the tiny city: adding a layer entry
is enough for it to be built, packed, decoded and permissioned like the others."""

import json

import pytest

from access.layer_access import layer_permission
from access.roles import STAFF_LAYERS, VIEW
from data.errors import LayerSpecError
from layers.catalog import (
    LAYERS,
    PUBLIC_LAYERS,
    build_layer,
    packed_colors,
    packed_layer,
    warm_layers,
)
from layers.codec import decode_field, pack_layer
from tests.conftest import TELEMETRY_DAY


@pytest.mark.parametrize("entry", LAYERS, ids=[e.id for e in LAYERS])
def test_every_layer_builds_packs_and_decodes(tiny_city, entry):
    spec = build_layer(tiny_city, entry.id, TELEMETRY_DAY)
    assert spec.id == entry.id
    assert spec.length > 0 or entry.optional  # the tiny city has no transit source
    assert spec.legend, f"{entry.id} has no legend"
    assert spec.tooltip and spec.id_field in spec.fields
    packed = pack_layer(spec)
    manifest = json.loads(json.dumps(packed.manifest))  # what the browser receives
    ids = decode_field(manifest["fields"][spec.id_field], packed.blob)
    assert len(ids) == spec.length
    assert all(ids), f"{entry.id}: a feature without the id its details are looked up by"


@pytest.mark.parametrize("entry", LAYERS, ids=[e.id for e in LAYERS])
def test_every_layer_says_who_may_see_it(entry):
    assert (entry.id in PUBLIC_LAYERS) == entry.public
    assert layer_permission(entry.id) == (VIEW if entry.public else STAFF_LAYERS)


def test_layer_ids_are_unique():
    assert len({e.id for e in LAYERS}) == len(LAYERS)


COLORED = [e for e in LAYERS if e.colors is not None]


@pytest.mark.parametrize("entry", COLORED, ids=[e.id for e in COLORED])
def test_every_colour_mode_set_fits_its_layer(tiny_city, entry):
    """One column per feature (or per vertex of a path) and mode; the open set is a subset."""
    spec = build_layer(tiny_city, entry.id, TELEMETRY_DAY)
    every = packed_colors(tiny_city.name, entry.id, TELEMETRY_DAY, metered=True)
    shown = packed_colors(tiny_city.name, entry.id, TELEMETRY_DAY, metered=False)
    assert len(every.blob) == every.manifest["byteLength"]
    starts = spec.start_indices  # paths: a colour per vertex
    items = spec.length if starts is None else int(starts[-1])
    for mode in every.manifest["modes"].values():
        assert mode["color"]["count"] == 4 * items, (entry.id, mode["title"])
        assert mode["legend"], f"{entry.id}: colour mode {mode['title']!r} has no legend"
    open_modes = entry.colors.open_modes
    assert set(shown.manifest["modes"]) == set(open_modes or every.manifest["modes"])


def test_a_layer_without_colour_modes_is_named(tiny_city):
    with pytest.raises(LayerSpecError, match=r"no colour modes for layer 'roads'.*lamps"):
        packed_colors(tiny_city.name, "roads", TELEMETRY_DAY, metered=True)


def test_warming_packs_every_layer_and_what_it_serves(tiny_city):
    warm_layers(tiny_city.name, TELEMETRY_DAY)
    hits = packed_layer.cache_info().hits
    for entry in LAYERS:  # each is served from what the warm-up packed
        packed_layer(tiny_city.name, entry.id, TELEMETRY_DAY)
    assert packed_layer.cache_info().hits == hits + len(LAYERS)
