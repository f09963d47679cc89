"""Telemetry hexagons in real Chromium: choose a variable, scrub the hours, zoom, hover."""

import h3
import pytest

pytestmark = pytest.mark.twin_layers("districts")  # hexagons and studios: no city layers

HEX_READY = "madinaTwin.state.hex && madinaTwin.state.hex.blob !== null"
HEX_DRAWN = "madinaTwin.state.deck.props.layers.some(l => l.id === 'hexagons')"


def _choose(page, label):
    page.locator("#hex-variable").click()
    page.get_by_role("option", name=label).click()


def _hexagon_requests(page):
    return [u for u in page.log.requests if "/api/hexagons/" in u]


def test_hexagons_show_a_variable_with_its_legend_and_hours(twin_page, map_pixels):
    before = map_pixels(twin_page)
    _choose(twin_page, "Mean power per light point (W)")
    twin_page.wait_for_function(HEX_READY, timeout=60_000)
    twin_page.wait_for_function(HEX_DRAWN)
    legend = twin_page.locator("#legend-hexagons")
    legend.wait_for(timeout=30_000)
    res = twin_page.evaluate("madinaTwin.state.hex.res")
    zoom = twin_page.evaluate("madinaTwin.state.zoom")
    assert res == twin_page.evaluate(f"madinaTwin.hexResFor({zoom})")
    assert f"Mean power per light point (W), H3 resolution {res}" in legend.inner_text()
    status = twin_page.locator("#hex-status")
    assert "Mon 23 Nov 2026 20:00 (Africa/Casablanca)" in status.inner_text()
    twin_page.wait_for_timeout(500)
    after = map_pixels(twin_page)
    changed = (abs(before.astype(int) - after.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.05, f"the hexagons changed only {changed:.2%} of the map"

    # scrubbing the hours switches frames in the browser: no new data is fetched
    fetched = len(_hexagon_requests(twin_page))
    slider = twin_page.locator("#hex-time .rc-slider-handle, #hex-time [role=slider]").first
    slider.focus()
    for _ in range(8):
        twin_page.keyboard.press("ArrowLeft")
    twin_page.wait_for_function("madinaTwin.state.hex.frame === 12")
    assert "12:00" in status.inner_text()
    assert len(_hexagon_requests(twin_page)) == fetched == 1

    # an explicit resolution overrides the zoom, and the legend follows
    twin_page.locator("#hex-res").get_by_label("10").check()
    twin_page.wait_for_function("madinaTwin.state.hex.res === 10")
    twin_page.wait_for_function(
        "document.querySelector('#legend-hexagons').innerText.includes('resolution 10')"
    )


def test_hovering_a_hexagon_shows_its_value_cell_and_unit(twin_page):
    for name in ("Buildings", "Light points", "Lamp faults on 2026-11-23"):  # nothing above
        twin_page.get_by_label(name).uncheck()
    _choose(twin_page, "Mean vehicle speed (km/h)")
    twin_page.wait_for_function(HEX_READY, timeout=60_000)
    twin_page.locator("#hex-res").get_by_label("8").check()
    twin_page.wait_for_function("madinaTwin.state.hex.res === 8")
    cells = twin_page.evaluate("madinaTwin.state.hex.manifest.resolutions['8'].cells")
    width, height = 1400, 850
    for cell in cells:  # the first cell whose centre is well inside the map
        lat, lon = h3.cell_to_latlng(cell)
        x, y = twin_page.evaluate(f"madinaTwin.project({lon}, {lat})")
        if 320 < x < width - 360 and 120 < y < height - 80:
            break
    twin_page.mouse.move(x, y)
    tooltip = twin_page.locator(".twin-tooltip")
    tooltip.wait_for(state="visible", timeout=30_000)
    text = tooltip.inner_text()
    assert "Mean vehicle speed" in text and " km/h · Mon 23 Nov 2026 20:00" in text
    assert "(resolution 8)" in text and "readings" in text
    shown = text.split("H3 cell ")[1].split(" ")[0]
    assert h3.get_resolution(shown) == 8
    assert h3.great_circle_distance(h3.cell_to_latlng(shown), (lat, lon)) < 2.0  # km


@pytest.mark.slow  # many software-rendered frames while zooming; CI runs it
def test_zooming_in_refines_the_cells_when_auto(twin_page):
    for name in ("Buildings", "Light points", "Roads"):  # fewer layers: faster software frames
        twin_page.get_by_label(name).uncheck()
    _choose(twin_page, "Vehicles counted per hour (all road segments in the cell) (veh/h)")
    twin_page.wait_for_function(HEX_READY, timeout=60_000)
    start = twin_page.evaluate("madinaTwin.state.hex.res")
    box = twin_page.locator("#twin-map").bounding_box()
    twin_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        twin_page.mouse.wheel(0, -1200)
        twin_page.wait_for_timeout(300)
    twin_page.wait_for_function("madinaTwin.state.zoom >= 14", timeout=30_000)
    twin_page.wait_for_function("madinaTwin.state.hex.res === 10")
    assert start < 10
    twin_page.wait_for_function(
        "document.querySelector('#legend-hexagons').innerText.includes('resolution 10')",
        timeout=30_000,
    )
