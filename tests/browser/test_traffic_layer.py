"""Traffic in real Chromium: the arterials by congestion hour by hour, trips, a road closure."""

import pytest

pytestmark = pytest.mark.twin_layers("districts,roads")  # the traffic runs along the roads

TRAFFIC_READY = "window.madinaTraffic && madinaTraffic.traffic.arrays !== null"
LAYER_IDS = "madinaTwin.state.deck.props.layers.map(l => l.id)"


def _show_traffic(page):
    page.locator("#layer-toggles").get_by_label("Traffic (simulated arterials)").check()
    page.wait_for_function(TRAFFIC_READY, timeout=60_000)
    page.locator("#tr-status").filter(has_text="08:00").wait_for(timeout=30_000)


def _vertex_colors(page) -> list[int]:
    return page.evaluate(
        "Array.from(madinaTwin.state.layers.traffic.data.attributes.getColor.value)"
    )


@pytest.mark.slow  # heavy in software rendering; CI runs it
def test_the_traffic_layer_plays_the_day_with_trips_and_a_legend(twin_page, map_pixels):
    twin_page.wait_for_timeout(500)
    before = map_pixels(twin_page)
    _show_traffic(twin_page)
    status = twin_page.locator("#tr-status").inner_text()
    assert "Ordinary weekday (baseline)" in status and "sampled trips" in status, status
    layers = twin_page.evaluate(LAYER_IDS)
    assert {"traffic", "traffic-volume", "traffic-trips"} <= set(layers), layers
    legend = twin_page.locator("#legend-traffic").inner_text()
    assert "stop-and-go" in legend and "free-flowing" in legend, legend
    changed = abs(before.astype(int) - map_pixels(twin_page).astype(int)).sum(axis=2) > 30
    assert changed.mean() > 0.01, f"the traffic layer changed only {changed.mean():.2%}"

    # 08:00 against 03:00: congestion at the peak, free flow at night, switched in the browser
    peak = _vertex_colors(twin_page)
    requests = len(twin_page.log.requests)
    twin_page.evaluate("dash_clientside.set_props('tr-frame', {value: 3})")
    twin_page.locator("#tr-status").filter(has_text="03:00").wait_for()
    night = _vertex_colors(twin_page)
    assert peak != night
    free_flow = [26, 152, 80, 255]
    share = [
        sum(c[i : i + 4] == free_flow for i in range(0, len(c), 4)) / (len(c) / 4)
        for c in (peak, night)
    ]
    assert share[1] > 0.95 and share[0] < share[1] - 0.05, share
    assert len(twin_page.log.requests) == requests, "an hour is switched without a request"

    # colour by volume: its own legend, in vehicles per hour
    twin_page.locator("#tr-mode").get_by_label("Volume (both directions)").check()
    twin_page.locator("#legend-traffic").filter(has_text="veh/h").wait_for()

    # hovering an arterial tells its morning figures and those of the hour shown
    target = twin_page.evaluate("madinaTwin.findPickable('traffic', 4000)")
    assert target, "no arterial is pickable in the default view"
    twin_page.mouse.move(target["x"], target["y"])
    tooltip = twin_page.locator(".twin-tooltip")
    tooltip.wait_for(state="visible", timeout=30_000)
    text = tooltip.inner_text()
    assert "08:00:" in text and "Now (Mon 23 Nov 03:00)" in text and "veh/h" in text, text

    # paused, the vehicles rest at half past; playing, they drive and the hours advance
    assert twin_page.evaluate("madinaTraffic.traffic.clock") == 3 * 3600 + 1800
    # x10,000: an hour in 0.36 s, so slow software-rendered frames still see the hour change
    twin_page.locator("#tb-speed").select_option("10000")
    twin_page.evaluate("document.getElementById('tb-play').click()")
    twin_page.wait_for_function("madinaTraffic.traffic.playing && madinaTraffic.traffic.animating")
    twin_page.wait_for_function(
        "madinaTraffic.traffic.frame !== 3 && madinaTraffic.traffic.clock % 3600 !== 1800",
        timeout=60_000,
    )
    # (a script click: software-rendered frames keep the page from looking "stable")
    twin_page.evaluate("document.getElementById('tb-play').click()")
    twin_page.wait_for_function(
        "!madinaTraffic.traffic.playing && !madinaTraffic.traffic.animating", timeout=60_000
    )


BUSIEST_ROAD = """(() => {
  const t = madinaTwin, entry = t.state.layers.traffic, n = entry.manifest.length;
  let best = 0;
  for (let i = 0; i < n; i++) {
    if (Number(t.fieldValue(entry, "flow_veh_h", i).replace(/,/g, "")) >
        Number(t.fieldValue(entry, "flow_veh_h", best).replace(/,/g, ""))) best = i;
  }
  return [best, t.fieldValue(entry, "road_id", best), Number(t.fieldValue(entry, "segment", best))];
})()"""


@pytest.mark.slow
def test_a_road_closure_runs_and_shows_the_road_closed(twin_page):
    _show_traffic(twin_page)
    index, road, segment = twin_page.evaluate(BUSIEST_ROAD)
    twin_page.locator("#network-studio > summary").click()
    twin_page.locator("#ns-kind").get_by_label("Traffic", exact=False).check()
    twin_page.locator("#ns-traffic-form").wait_for()
    roads = twin_page.locator("#tf-roads")

    # a local street is refused, naming it
    roads.fill("CAS-R000001")
    roads.press("Enter")
    twin_page.locator("#tf-run").click()
    error = twin_page.locator("#ns-error")
    error.filter(has_text="Not run").wait_for(timeout=30_000)
    assert "CAS-R000001" in error.inner_text(), error.inner_text()

    # the busiest arterial closed 07:00-12:00 (the form's defaults)
    roads.fill(road)
    roads.press("Enter")
    twin_page.locator("#tf-run").click()
    twin_page.locator("#ns-kpi-table").filter(has_text="Vehicle-hours travelled").wait_for(
        timeout=120_000
    )
    table = twin_page.locator("#ns-kpi-table").inner_text()
    hours = table.split("Vehicle-hours travelled (veh·h/day)")[1].split("\n")[0].split()
    before, after = (float(v.replace(",", "")) for v in hours[:2])
    assert after > before, table
    twin_page.locator("#tr-status").filter(has_text="What-if: road works").wait_for(timeout=60_000)
    twin_page.wait_for_function(
        f"madinaTraffic.traffic.arrays.works[8 * madinaTraffic.traffic.view.manifest.segments"
        f" + {segment}] === 2"
    )
    color = twin_page.evaluate(
        f"""(() => {{
          const e = madinaTwin.state.layers.traffic;
          const v = madinaTwin.typed(e.blob, e.manifest.startIndices)[{index}];
          return Array.from(e.data.attributes.getColor.value.slice(v * 4, v * 4 + 4));
        }})()"""
    )
    assert color == [200, 0, 200, 255], color
    legend = twin_page.locator("#legend-hexagons").inner_text()
    assert "Traffic delay change" in legend, legend
