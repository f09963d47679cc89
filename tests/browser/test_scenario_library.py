"""The scenario library in real Chromium: save a plan, watch it run in the background, compare."""

import numpy as np
import pytest
from PIL import Image

from data.store.scenarios import ScenarioStore

pytestmark = pytest.mark.twin_layers("districts")  # hexagons and studios: no city layers


def _open_library(page):
    page.locator("#scenario-library > summary").evaluate("el => el.click()")


def test_saved_plans_run_in_the_background_and_compare_side_by_side(twin_page, live_server, app):
    page = twin_page
    page.locator("#lighting-studio > summary").evaluate("el => el.click()")
    _open_library(page)
    page.locator("#ls-save").evaluate("el => el.click()")
    page.locator("#sc-status").filter(has_text="done in").wait_for(timeout=120_000)
    status = page.locator("#sc-status").inner_text()
    assert "LED + Estonian dimming" in status, status
    assert page.locator("#sc-progress").get_attribute("value") == "100"

    # a second plan: plain LED everywhere, named by the planner
    page.locator("#ls-preset").click()
    page.get_by_role("option", name="LED everywhere").click()
    page.wait_for_function("!document.querySelector('#ls-dimming').value.includes('50%')")
    page.locator("#sc-name").fill("LED only")
    page.locator("#ls-save").evaluate("el => el.click()")
    page.locator("#sc-status").filter(has_text="“LED only” done in").wait_for(timeout=120_000)

    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    records = {r.name: r for r in store.records()}
    assert {"LED only", "LED + Estonian dimming (50% after 23:00, 20% 01-05)"} <= set(records)
    assert records["LED only"].author == "salma"  # the logged-in planner
    assert records["LED only"].status == "done"

    table = page.locator("#sc-table")
    table.get_by_text("LED only", exact=True).wait_for()
    for name in ("LED only", "LED + Estonian dimming (50% after 23:00, 20% 01-05)"):
        row = table.locator("tr", has_text=name)
        row.locator("input[type=checkbox]").first.check()
    kpis = page.locator("#sc-kpi-table")
    kpis.locator("tr[data-kpi=energy_kwh]").filter(has_text="%)").wait_for()  # both ticked
    energy = kpis.locator("tr[data-kpi=energy_kwh]").inner_text()
    assert "Energy (kWh/yr)" in energy and "%)" in energy, energy  # a delta in %
    saving = energy.split("(")[-1]
    assert saving.startswith("-"), energy  # dimming saves against LED only

    brief = page.locator("#sc-compare a", has_text="Brief vs reference").get_attribute("href")
    response = page.request.get(live_server + brief)  # with the planner's session
    assert response.ok, response.status
    page_html = response.text()
    assert "Change in public-lighting energy" in page_html and "LED only" in page_html

    # the difference on the map: hexagons on a diverging scale, played by the time bar
    page.locator("#sc-map").click()
    page.get_by_role("option", name="Difference:", exact=False).click()
    page.wait_for_function(
        "madinaTwin.state.hex && madinaTwin.state.hex.blob && "
        "madinaTwin.state.hex.manifest.kind === 'library'",
        timeout=60_000,
    )
    legend = page.locator("#legend-hexagons")
    legend.filter(has_text="no change").wait_for()
    assert "kWh" in legend.inner_text()
    assert page.evaluate("madinaTwin.state.hex.manifest.times.length") == 365
    page.evaluate("madinaTime.seek(40)")
    page.wait_for_function("madinaTwin.state.hex.frame === 40")
    page.locator("#sc-frame-text").filter(has_text="10 Feb 2026").wait_for()
    assert "10 Feb 2026" in page.locator("#tb-clock").inner_text()

    # a link to this view opens it again: the run, the layers, the time
    page.locator("#share-button").click()
    page.wait_for_function("document.querySelector('#share-url').value.includes('scenario=')")
    link = page.locator("#share-url").input_value()
    assert "t=2026-02-" in link and "variable=energy_kwh" in link, link
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_function(
        "window.madinaTwin && madinaTwin.state.hex && madinaTwin.state.hex.blob "
        "&& madinaTwin.state.hex.frame === 40",
        timeout=90_000,
    )
    assert other.evaluate("madinaTwin.state.hex.manifest.difference") is True
    assert other.locator("#scenario-library").get_attribute("open") is not None
    other.close()

    # split view: one run on each map, one colour scale, the same frame and camera
    page.locator("#sc-map").click()
    page.get_by_role("option", name="LED only", exact=True).click()
    page.locator("#sc-split").get_by_label("split view", exact=False).check()
    page.wait_for_function(
        "madinaSplit.split.open && madinaSplit.split.blob !== null", timeout=60_000
    )
    page.wait_for_function(
        "madinaSplit.split.deck.props.layers.some(l => l.id === 'hexagons-right')"
    )
    left = page.evaluate("madinaTwin.state.hex.manifest.resolutions['9'].breaks")
    right = page.evaluate("madinaSplit.split.manifest.resolutions['9'].breaks")
    assert left == right, (left, right)
    assert "LED + Estonian" in page.locator("#split-label-right").inner_text()
    page.evaluate("madinaTime.seek(200)")
    page.wait_for_function(
        "madinaSplit.split.deck.props.layers.find(l => l.id === 'hexagons-right')"
        ".props.updateTriggers.getFillColor[2] === 200"
    )
    # the view as a PNG: both maps side by side above a caption
    widths = page.evaluate(
        "[madinaTwin.state.deck.getCanvas().width, madinaSplit.split.deck.getCanvas().width, "
        "madinaTwin.state.deck.getCanvas().height]"
    )
    with page.expect_download(timeout=60_000) as download:
        page.locator("#png-button").evaluate("el => el.click()")
    png = Image.open(download.value.path()).convert("RGB")
    assert png.width == widths[0] + widths[1] and png.height > widths[2], (png.size, widths)
    pixels = np.asarray(png)
    assert pixels[: widths[2]].std() > 10  # a drawn map, not a blank canvas
    assert tuple(pixels[-5, 2]) == (20, 50, 74)  # the caption strip

    page.locator("#sc-split").get_by_label("split view", exact=False).uncheck()
    page.wait_for_function("!madinaSplit.split.open && !document.getElementById('twin-map-right')")


def test_a_forged_link_is_named_and_the_page_still_opens(twin_page, live_server):
    twin_page.goto(live_server + "/?layers=roads,bogus&view=1,2,3&scenario=zzz")
    status = twin_page.locator("#share-status")
    status.wait_for()
    text = status.inner_text()
    assert "unknown layer(s) ['bogus']" in text and "view = '1,2,3' must be" in text, text
    assert "'zzz' is not a scenario id" in text
    twin_page.wait_for_function("madinaTwin.state.ready", timeout=90_000)
    assert twin_page.evaluate("Array.from(madinaTwin.state.visible || [])") == ["roads"]


@pytest.mark.slow
def test_a_run_can_be_cancelled(twin_page, app):
    page = twin_page
    page.locator("#network-studio > summary").evaluate("el => el.click()")
    _open_library(page)
    page.locator("#ns-kind").get_by_label("Traffic", exact=False).check()
    page.locator("#tf-measure").click()
    page.get_by_role("option", name="Demand growth only").click()
    page.locator("#tf-growth").fill("7")
    page.locator("#tf-growth").press("Tab")
    page.locator("#ns-save").evaluate("el => el.click()")
    page.wait_for_function("!document.querySelector('#sc-cancel').disabled", timeout=60_000)
    page.locator("#sc-cancel").evaluate("el => el.click()")
    page.locator("#sc-status").filter(has_text="cancelled").wait_for(timeout=60_000)
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    latest = store.records()[0]
    assert latest.kind == "traffic" and latest.status == "cancelled"
    assert latest.result_file is None
