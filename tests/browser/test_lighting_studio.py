"""The lighting what-if in real Chromium: run a plan, read its KPIs, play its time-lapse."""

import pytest

pytestmark = pytest.mark.twin_layers("districts")  # hexagons and studios: no city layers

HEX_READY = "madinaTwin.state.hex && madinaTwin.state.hex.blob !== null"


def _open_studio(page):
    page.locator("#lighting-studio > summary").click()
    page.locator("#ls-run").wait_for()


def _run(page):
    page.locator("#ls-run").click()
    page.locator("#ls-summary").wait_for(timeout=90_000)
    page.wait_for_function(
        HEX_READY + " && madinaTwin.state.hex.manifest.kind === 'scenario'", timeout=60_000
    )


def test_a_plan_runs_shows_its_kpis_and_plays_back_on_the_map(twin_page, map_pixels):
    _open_studio(twin_page)
    twin_page.get_by_label("Light points").uncheck()
    before = map_pixels(twin_page)
    _run(twin_page)  # default plan: LED + Estonian dimming, the telemetry day by hour

    summary = twin_page.locator("#ls-summary").inner_text()
    saving = float(summary.split("Saves ")[1].split("%")[0])
    assert 60 < saving < 80, summary
    energy = twin_page.locator("[data-kpi=energy_kwh] td").all_inner_texts()
    assert float(energy[1]) < float(energy[0]), energy  # GWh/yr: scenario below today
    legend = twin_page.locator("#legend-hexagons").inner_text()
    assert "Lighting energy (kWh)" in legend and "LED + Estonian" in legend
    twin_page.wait_for_timeout(500)
    after = map_pixels(twin_page)
    changed = (abs(before.astype(int) - after.astype(int)).sum(axis=2) > 30).mean()
    assert changed > 0.05, f"the scenario's hexagons changed only {changed:.2%} of the map"

    # the frame slider drives the hexagons, the frame KPIs and the chart's cursor
    slider = twin_page.locator("#ls-frame [role=slider]").first
    slider.focus()
    for _ in range(3):
        twin_page.keyboard.press("ArrowRight")
    twin_page.wait_for_function("madinaTwin.state.hex.frame === 3")
    frame_kpis = twin_page.locator("#ls-frame-kpis").inner_text()
    assert "03:00" in frame_kpis and "kW" in frame_kpis, frame_kpis
    cursor = twin_page.evaluate(
        "document.querySelector('#ls-chart .js-plotly-plot').layout.shapes[0].x0"
    )
    assert cursor == 3

    # the twin's time bar follows the panel's slider, and steps the frames itself
    clock = twin_page.locator("#tb-clock")
    assert "03:00" in clock.inner_text() and "(Africa/Casablanca)" in clock.inner_text()
    twin_page.evaluate("document.getElementById('tb-next').click()")
    twin_page.wait_for_function("madinaTwin.state.hex.frame === 4")
    twin_page.locator("#ls-frame-kpis").filter(has_text="04:00").wait_for()
    cursor = "document.querySelector('#ls-chart .js-plotly-plot').layout.shapes[0].x0"
    twin_page.wait_for_function(f"{cursor} === 4")  # the chart follows the cursor

    # playing (x100,000: an hour in 36 ms) advances frames by itself, fetching nothing new
    fetched = [u for u in twin_page.log.requests if "/api/lighting/" in u]
    twin_page.locator("#tb-speed").select_option("100000")
    twin_page.evaluate("document.getElementById('tb-play').click()")
    twin_page.wait_for_function("madinaTwin.state.hex.frame >= 6", timeout=20_000)
    twin_page.evaluate("document.getElementById('tb-play').click()")
    twin_page.wait_for_function("!madinaTime.time.playing")
    assert [u for u in twin_page.log.requests if "/api/lighting/" in u] == fetched
    assert len(fetched) == 1

    # the light points take the plan's dimming level at the played frame
    twin_page.get_by_label("Light points").check()
    twin_page.locator("#lamp-color").click()
    twin_page.get_by_role("option", name="Dimming (scenario playback)").click()
    deep_night = (
        "Array.from(madinaTwin.state.layers.lamps.data.attributes.getFillColor.value.slice(0, 8))"
    )
    for frame in (3, 20):  # set as the slider does (its keys are exercised above)
        twin_page.evaluate(f"dash_clientside.set_props('ls-frame', {{value: {frame}}})")
        twin_page.wait_for_function(f"madinaTwin.state.hex.frame === {frame}")
        twin_page.wait_for_timeout(300)
        if frame == 3:
            at_3 = twin_page.evaluate(deep_night)  # 03:00: LED at 20%, the "20-50%" class
    at_20 = twin_page.evaluate(deep_night)  # 20:00: full light
    assert at_3[:3] == [170, 80, 20] and at_20[:3] == [255, 250, 220], (at_3, at_20)


def test_a_bad_schedule_is_refused_naming_it(twin_page):
    _open_studio(twin_page)
    box = twin_page.locator("#ls-dimming")
    box.fill("05-23 100%; 22-05 20%")
    box.press("Enter")
    twin_page.locator("#ls-run").click()
    error = twin_page.locator("#ls-error")
    twin_page.wait_for_function(
        "document.querySelector('#ls-error').innerText.includes('overlap')", timeout=30_000
    )
    assert "dimming: steps overlap at 22:00" in error.inner_text()
    assert twin_page.evaluate("madinaTwin.state.hex") is None  # nothing was drawn
