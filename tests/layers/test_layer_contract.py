"""The contract of every layer in the catalogue, checked on the tiny city: adding a layer entry
is enough for it to be built, packed, decoded and permissioned like the others."""

import json

import pytest

from access.layer_access import layer_permission
from access.roles import STAFF_LAYERS, VIEW
from layers.catalog import LAYERS, PUBLIC_LAYERS, build_layer
from layers.codec import decode_field, pack_layer
from tests.conftest import TELEMETRY_DAY


@pytest.mark.parametrize("entry", LAYERS, ids=[e.id for e in LAYERS])
def test_every_layer_builds_packs_and_decodes(tiny_city, entry):
    spec = build_layer(tiny_city, entry.id, TELEMETRY_DAY)
    assert spec.id == entry.id and spec.length > 0
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
