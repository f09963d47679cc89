"""Utility networks in real Chromium: the water and power layers, and an outage's time-lapse."""

import pytest

pytestmark = pytest.mark.twin_layers("districts")  # hexagons and studios: no city layers

HEX_READY = "madinaTwin.state.hex && madinaTwin.state.hex.blob !== null"


def _open_studio(page, kind: str):
    page.locator("#network-studio > summary").click()
    page.locator("#ns-kind").get_by_label(kind).check()


@pytest.mark.slow  # heavy in software rendering; CI runs it
def test_network_layers_show_with_units_in_their_legends(twin_page, map_pixels):
    before = map_pixels(twin_page)
    for title in ("Water pipes", "Water DMAs (night flow)", "Substations and transformers"):
        twin_page.locator("#layer-toggles").get_by_label(title, exact=False).first.check()
    twin_page.wait_for_function(
        "['water-pipes', 'water-dmas', 'power-stations'].every("
        "id => madinaTwin.state.layers[id] && madinaTwin.state.layers[id].layer)",
        timeout=60_000,
    )
    for layer_id in ("water-pipes", "water-dmas", "power-stations"):
        twin_page.locator(f"#legend-{layer_id}").wait_for()
    legends = twin_page.locator("#legends").inner_text()
    assert "Water pipes by velocity" in legends and "m/s" in legends, legends
    assert "PRV (DMA inlet)" in legends and "Closed boundary valve" in legends
    assert "m³/h/km" in legends and "kVA" in legends, legends
    twin_page.wait_for_timeout(500)
    after = map_pixels(twin_page)
    changed = (abs(before.astype(int) - after.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.05, f"the network layers changed only {changed:.2%} of the map"

    # the pipes recolour by laying year, their legend with them
    twin_page.locator("#pipe-color").click()
    twin_page.get_by_role("option", name="Laying year").click()
    twin_page.wait_for_function("madinaTwin.state.layers['water-pipes'].colorMode === 'age'")
    twin_page.locator("#legend-water-pipes").filter(has_text="before 1975").wait_for()
    assert "Water pipes by laying year" in twin_page.locator("#legend-water-pipes").inner_text()


def test_a_feeder_outage_runs_and_plays_back(twin_page):
    _open_studio(twin_page, "Feeder / transformer outage (electricity)")
    twin_page.locator("#ns-run").click()
    twin_page.locator("#ns-kpi-table").wait_for(timeout=60_000)
    twin_page.wait_for_function(
        HEX_READY + " && madinaTwin.state.hex.manifest.kind === 'network'", timeout=60_000
    )
    table = twin_page.locator("#ns-kpi-table").inner_text()
    customers = int(table.split("Customers cut off")[1].split()[1].replace(",", ""))
    assert customers > 1000, table
    legend = twin_page.locator("#legend-hexagons").inner_text()
    assert "Electricity customers without power (customers)" in legend, legend

    # the outage starts at 18:00: frames are quarter-hours from midnight
    twin_page.evaluate("dash_clientside.set_props('ns-frame', {value: 73})")
    twin_page.wait_for_function("madinaTwin.state.hex.frame === 73")
    twin_page.locator("#ns-frame-text").filter(has_text="18:15").wait_for()
    text = twin_page.locator("#ns-frame-text").inner_text()
    assert "18:15" in text and "customers" in text, text
    off = float(text.split("without power ")[1].split()[0].replace(",", ""))
    assert off > 0, text
    twin_page.evaluate("dash_clientside.set_props('ns-frame', {value: 10})")
    twin_page.wait_for_function("madinaTwin.state.hex.frame === 10")
    twin_page.locator("#ns-frame-text").filter(has_text="02:30").wait_for()
    assert " 0.0 customers" in twin_page.locator("#ns-frame-text").inner_text()


def test_a_bad_transformer_id_is_refused_naming_it(twin_page):
    _open_studio(twin_page, "Feeder / transformer outage (electricity)")
    box = twin_page.locator("#ns-transformer")
    box.fill("CAS-T99999")
    box.press("Enter")
    twin_page.locator("#ns-run").click()
    error = twin_page.locator("#ns-error")
    error.filter(has_text="Not run").wait_for(timeout=30_000)
    assert "element_id 'CAS-T99999'" in error.inner_text()


@pytest.mark.slow
def test_a_pipe_break_leaves_its_segment_without_water(twin_page):
    _open_studio(twin_page, "Pipe break (water)")
    twin_page.locator("#ns-random").fill("1")
    twin_page.locator("#ns-random").press("Enter")
    twin_page.locator("#ns-run").click()
    twin_page.locator("#ns-kpi-table").wait_for(timeout=180_000)
    table = twin_page.locator("#ns-kpi-table").inner_text()
    assert "People without water (worst hour)" in table and "Volume lost" in table
    twin_page.wait_for_function(
        HEX_READY + " && madinaTwin.state.hex.manifest.kind === 'network'", timeout=60_000
    )
    legend = twin_page.locator("#legend-hexagons").inner_text()
    assert "People without water (people)" in legend, legend


@pytest.mark.slow  # heavy in software rendering; CI runs it
def test_a_clicked_pipe_shows_its_figures_and_joins_the_burst_list(twin_page):
    for title in ("Buildings", "Light points", "Lamp faults"):
        twin_page.locator("#layer-toggles").get_by_label(title, exact=False).first.uncheck()
    twin_page.locator("#layer-toggles").get_by_label("Water pipes").check()
    _open_studio(twin_page, "Pipe break (water)")
    twin_page.wait_for_function(  # the pipes fetched and drawn before pointing at one
        "madinaTwin.state.layers['water-pipes'] && madinaTwin.state.deck.props.layers"
        ".some(l => l.id === 'water-pipes' && l.props.visible)",
        timeout=60_000,
    )
    twin_page.wait_for_timeout(1000)
    target = twin_page.evaluate("madinaTwin.findPickable('water-pipes', 4000)")
    assert target, "no water pipe is pickable in the default view"
    pipe_id = twin_page.evaluate(
        "madinaTwin.fieldValue(madinaTwin.state.layers['water-pipes'], 'link_id', "
        f"{target['index']})"
    )
    twin_page.mouse.click(target["x"], target["y"])
    card = twin_page.locator("#details-card")
    card.filter(has_text=pipe_id).wait_for(timeout=30_000)
    text = card.inner_text()
    assert f"Pipe {pipe_id}" in text and "mm" in text and "L/s" in text, text
    twin_page.wait_for_function(
        f"document.querySelector('#ns-pipes').value.includes('{pipe_id}')", timeout=10_000
    )
