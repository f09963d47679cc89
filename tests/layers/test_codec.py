import numpy as np
import pandas as pd
import pydeck as pdk
import pytest

from data.errors import LayerSpecError
from layers.codec import BlobWriter, decode_field, encode_field, pack_layer
from layers.spec import LayerSpec


def roundtrip(values):
    writer = BlobWriter()
    descriptor = encode_field(values, writer)
    return descriptor, decode_field(descriptor, writer.getvalue())


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series(["CAS-L000001", "CAS-L000002", "CAS-L000010"]), "sequence"),
        (pd.Series(["Rue 1", "Rue 2", "Rue 1", ""]), "dictionary"),
        (pd.Series(["A7", "A7"]), "dictionary"),  # duplicates are not a sequence
        (pd.Series(["J1", "J22", "J31070"]), "sequence"),  # plain numbers: width 0
        (pd.Series(["X01", "X22", "X305"]), "dictionary"),  # padded to different widths
        (pd.Series([True, False, True]), "bool"),
        (pd.Series([70, 150, 250]), "number"),
    ],
)
def test_text_and_numbers_roundtrip(values, kind):
    descriptor, decoded = roundtrip(values)
    assert descriptor["kind"] == kind
    assert decoded == values.tolist()


def test_float_fields_keep_missing_values_as_nan():
    descriptor, decoded = roundtrip(pd.Series([1.5, np.nan]))
    assert descriptor["dtype"] == "float32"
    assert decoded[0] == 1.5 and np.isnan(decoded[1])


def test_dictionary_codes_widen_with_many_values():
    values = pd.Series([f"name {i}" for i in range(300)] * 2)
    descriptor, decoded = roundtrip(values)
    assert descriptor["dtype"] == "uint16"
    assert decoded == values.tolist()


def test_spec_rejects_misaligned_columns():
    with pytest.raises(LayerSpecError, match="attribute 'getFillColor' has 2 rows, expected 3"):
        LayerSpec(
            id="x",
            title="X",
            deck_layer=pdk.Layer("ScatterplotLayer", id="x"),
            length=3,
            attributes={
                "getPosition": np.zeros((3, 2), np.float32),
                "getFillColor": np.zeros((2, 4), np.uint8),
            },
        )
    with pytest.raises(LayerSpecError, match="field 'name'"):
        LayerSpec(
            id="x",
            title="X",
            deck_layer=pdk.Layer("ScatterplotLayer", id="x"),
            length=3,
            attributes={"getPosition": np.zeros((3, 2), np.float32)},
            fields={"name": pd.Series(["a"])},
        )


def test_blob_offsets_are_aligned_for_typed_arrays():
    spec = LayerSpec(
        id="x",
        title="X",
        deck_layer=pdk.Layer("ScatterplotLayer", id="x"),
        length=3,
        attributes={
            "getFillColor": np.zeros((3, 3), np.uint8),  # 9 bytes: forces padding after it
            "getPosition": np.ones((3, 2), np.float32),
        },
    )
    packed = pack_layer(spec)
    position = packed.manifest["attributes"]["getPosition"]
    assert position["offset"] % 8 == 0
    values = np.frombuffer(packed.blob, np.float32, position["count"], position["offset"])
    assert (values == 1).all()
