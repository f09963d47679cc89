"""The twin in real headless Chromium: draws, toggles, tooltips, details, offline, no errors."""

import numpy as np

from layers.catalog import LAYER_BUILDERS

SEA = np.array([0x9F, 0xC3, 0xD9])


def drawn_fraction(pixels: np.ndarray) -> float:
    """Share of map pixels that are not the bare sea background."""
    return float((np.abs(pixels.astype(int) - SEA).sum(axis=2) > 30).mean())


def test_map_draws_the_city(twin_page, map_pixels):
    pixels = map_pixels(twin_page)
    assert drawn_fraction(pixels) > 0.2, "the city should cover a good part of the map"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "shaded 3D city, not a flat fill"
    # the page opens with the visible layers' columns; the others come when first ticked
    layers = twin_page.evaluate("Object.keys(madinaTwin.state.layers)")
    shown = twin_page.evaluate(
        "madinaTwin.state.bundle.layers.filter(m => m.visible).map(m => m.id)"
    )
    assert sorted(layers) == sorted(shown) and set(shown) < set(LAYER_BUILDERS)
    assert "water-pipes" not in layers
    twin_page.locator("#layer-toggles").get_by_label("Water pipes").check()
    twin_page.wait_for_function(
        "madinaTwin.state.layers['water-pipes'] && madinaTwin.state.deck.props.layers"
        ".some(l => l.id === 'water-pipes' && l.props.visible)",
        timeout=60_000,
    )


def test_toggling_a_layer_changes_what_is_drawn(twin_page, map_pixels):
    before = map_pixels(twin_page)
    assert twin_page.locator("#legend-buildings").count() == 1
    twin_page.get_by_label("Buildings").uncheck()
    twin_page.wait_for_function(
        "!madinaTwin.state.deck.props.layers.find(l => l.id === 'buildings').props.visible"
    )
    twin_page.wait_for_timeout(500)
    after = map_pixels(twin_page)
    changed = (np.abs(before.astype(int) - after.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.01, f"hiding buildings changed only {changed:.2%} of the map"
    assert twin_page.locator("#legend-buildings").count() == 0
    twin_page.get_by_label("Buildings").check()
    twin_page.wait_for_selector("#legend-buildings")


def test_hovering_a_lamp_shows_its_tooltip(twin_page):
    target = twin_page.evaluate("madinaTwin.findPickable('lamps')")
    assert target, "no lamp is pickable in the default view"
    lamp_id = twin_page.evaluate(
        f"madinaTwin.fieldValue(madinaTwin.state.layers.lamps, 'lamp_id', {target['index']})"
    )
    twin_page.mouse.move(target["x"], target["y"])
    tooltip = twin_page.locator(".twin-tooltip")
    tooltip.wait_for(state="visible", timeout=30_000)
    text = tooltip.inner_text()
    assert f"Lamp {lamp_id}" in text
    assert " W" in text and "pole" in text


def test_clicking_a_feature_shows_details_from_the_server(twin_page, city):
    target = twin_page.evaluate("madinaTwin.findPickable('buildings')")
    assert target, "no building is pickable in the default view"
    twin_page.mouse.click(target["x"], target["y"])
    card = twin_page.locator("#details-card")
    card.wait_for(timeout=45_000)
    building_id = card.get_attribute("data-feature")
    row = city.buildings.set_index("building_id").loc[building_id]
    text = card.inner_text()
    assert card.get_attribute("data-layer") == "buildings"
    assert f"{row['height_m']:.1f} m" in text
    assert row["building_type"] in text


def test_page_names_its_sources(twin_page, city):
    attribution = twin_page.locator("#twin-attribution").inner_text()
    for line in city.meta["attribution"]:
        assert line in attribution
    assert twin_page.evaluate("madinaTwin.state.error") is None
