"""The three audiences on the server: what each role's page holds, what a forged request gets.

Forged requests go straight to Dash's callback endpoint and to the routes, as an attacker's
script would, with a valid CSRF token of a public (or no) session: the guard must refuse them
(403) and log who tried what.
"""

import importlib
import json
import logging
import re

import h3
import numpy as np
import pandas as pd
import pytest
from dash import html
from dash._utils import split_callback_id

from access.roles import PERMISSIONS, Role, allows
from data.store.scenarios import ScenarioStore
from layers.catalog import PUBLIC_LAYERS
from pages.permissions import permission_of
from tests.conftest import csrf_token, finished_outage

UPDATE = "/_dash-update-component"


@pytest.fixture(scope="module")
def runs(app, city_name):
    """A published outage and an unpublished one, both done."""
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    published = finished_outage(app, city_name, "CAS-F003", "feeder 3 published")
    store.publish(published.id, by="mayor", decision="Reinforce feeder 3 in 2027")
    private = finished_outage(app, city_name, "CAS-F004", "feeder 4 draft")
    return {"published": store.get(published.id), "private": private}


def callback_request(app, output: str, inputs: dict, state: dict | None = None) -> dict:
    """The body dash-renderer posts for the callback writing ``output``."""
    spec = app.callback_map[output]

    def values(specs, given):
        return [{**s, "value": given.get(f"{s['id']}.{s['property']}")} for s in specs]

    outputs = [
        {"id": o["id"], "property": o["property"].split("@")[0]} for o in callback_outputs(output)
    ]
    return {
        "output": output,
        "outputs": outputs if output.startswith("..") else outputs[0],
        "inputs": values(spec["inputs"], inputs),
        "state": values(spec["state"], state or {}),
        "changedPropIds": list(inputs),
    }


def post_callback(client, body: dict):
    token = csrf_token(client)
    return client.post(UPDATE, json=body, headers={"X-CSRFToken": token})


def output_of(app, component: str) -> str:
    """The callback-map key of the (first) callback writing ``component``."""
    return next(
        key for key in app.callback_map if f"{component}." in re.sub(r"@[0-9a-f]+", "", key)
    )


def callback_outputs(output: str) -> list[dict]:
    outputs = split_callback_id(output)
    return outputs if isinstance(outputs, list) else [outputs]


def ids_in(component) -> set[str]:
    found = set()
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not hasattr(node, "to_plotly_json"):
            continue
        if isinstance(getattr(node, "id", None), str):
            found.add(node.id)
        stack.append(getattr(node, "children", None))
    return found


def test_pages_send_a_strict_content_security_policy_and_no_dev_tools(client_as):
    page = client_as("public").get("/")
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'" and all(s.startswith("'sha256-") for s in scripts[1:])
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    text = page.get_data(as_text=True)
    config = json.loads(text.split('<script id="_dash-config" type="application/json">')[1]
                        .split("</script>")[0])  # fmt: skip
    assert config["ui"] is False and config["props_check"] is False
    assert "_csrf_token=" in page.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_each_roles_page_holds_only_what_the_role_may_use_and_runs_every_callback(
    app, twin, as_role, role
):
    with as_role(role):
        ids = ids_in(twin.layout())
    granted = PERMISSIONS[Role(role)]
    for component in ids:
        permission = permission_of(component)
        if permission is not None:  # unclassified: never a callback's, checked below
            assert permission in granted, f"{component} needs {permission}"
    for output, spec in app.callback_map.items():
        inputs = {s["id"] for s in spec["inputs"]}
        states = {s["id"] for s in spec["state"]}
        for component in inputs | states:
            assert permission_of(component) is not None, f"{component} is unclassified"
        outputs = {s["id"] for s in callback_outputs(output)}
        # dash-renderer drops a callback none of whose outputs is on the page; one it can fire
        # (an input and an output here) must find everything it reads
        if inputs & ids and outputs & ids:
            missing = (inputs | states) - ids
            assert not missing, f"{output} on the {role} page lacks {missing}"


def test_the_public_page_shows_no_studio_no_staff_layers_and_no_names(app, twin, as_role, runs):
    with as_role("public"):
        page = twin.layout()
        ids = ids_in(page)
        library = importlib.import_module("pages.scenario_library")
        rows = library.list_scenarios(None, None, None)
    assert not {i for i in ids if i.startswith(("ls-", "ns-", "tf-", "sc-publish"))}
    assert "sc-status" not in ids and "sc-draft" not in ids
    text = json.dumps(page.to_plotly_json(), default=str)
    with as_role("public"):
        bundle = twin.twin_bundle(app.server.config["MADINA_CITY"], "2026-11-23", Role.PUBLIC)
    assert {m["id"] for m in bundle["layers"]} == set(PUBLIC_LAYERS)
    assert set(bundle["colors"]["lamps"]["manifest"]["modes"]) == {"technology", "wattage"}
    assert bundle["colors"]["lamps"]["url"].endswith("/lamps/open.bin")
    assert "water-pipes" not in bundle["colors"]
    payload = json.dumps(bundle) + text + json.dumps(rows)
    for field in ("customers", "n_customers", "author", "published_by", "salma", "mayor"):
        assert field not in payload, f"{field!r} reaches the public view"
    shown = {r["id"]: r for r in rows}  # (other tests of the session publish runs too)
    assert runs["published"].id in shown and runs["private"].id not in shown
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    assert all(store.get(scenario_id).published_at for scenario_id in shown)
    row = shown[runs["published"].id]
    assert row["decision"] == "Reinforce feeder 3 in 2027" and "author" not in row


def test_forged_callbacks_from_the_public_are_refused_and_logged(app, client_as, runs, caplog):
    public = client_as("public")
    forged = {
        "run a scenario": callback_request(
            app, output_of(app, "sc-job"),
            {"sc-draft.data": {"kind": "outage", "params": {"element_id": "CAS-F001"}}},
        ),
        "preview a lighting plan": callback_request(
            app, output_of(app, "ls-series"), {"ls-run.n_clicks": 1},
        ),
        "publish a run": callback_request(
            app, output_of(app, "sc-publish-status"),
            {"sc-publish.n_clicks": 1}, {"sc-table.selected_row_ids": [runs["private"].id]},
        ),
        "read a staff layer": callback_request(
            app, "feature-details.children",
            {"selected-feature.data": {"layer": "water-pipes", "id": "P1"}},
        ),
        "compare an unpublished run": callback_request(
            app, "sc-compare.children",
            {"sc-table.selected_row_ids": [runs["private"].id], "sc-done.data": None},
        ),
        "an unknown callback": {"output": "secrets.children", "inputs": [], "state": []},
    }  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="madina.access"):
        for what, body in forged.items():
            response = post_callback(public, body)
            assert response.status_code == 403, f"{what}: {response.status_code}"
            assert (
                "forbidden" in response.get_json()["error"]
                or "unknown" in response.get_json()["error"]
            )
    assert caplog.text.count("refused") == len(forged)
    assert "anonymous (public)" in caplog.text
    assert (
        ScenarioStore(app.server.config["MADINA_SCENARIO_DB"]).get(runs["private"].id).published_at
        is None
    )


def test_the_public_may_compare_published_runs_through_the_same_endpoint(app, client_as, runs):
    body = callback_request(
        app, "sc-compare.children",
        {"sc-table.selected_row_ids": [runs["published"].id], "sc-done.data": None},
    )  # fmt: skip
    response = post_callback(client_as("public"), body)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Reinforce feeder 3 in 2027" in text and "results.csv" not in text


def test_a_decision_maker_publishes_and_the_public_then_sees_the_run(app, client_as, runs):
    body = callback_request(
        app, output_of(app, "sc-publish-status"),
        {"sc-publish.n_clicks": 1},
        {"sc-table.selected_row_ids": [runs["private"].id], "sc-decision.value": "Defer"},
    )  # fmt: skip
    planner_only = callback_request(
        app, output_of(app, "sc-job"), {"sc-draft.data": {"kind": "outage", "params": {}}}
    )
    mayor = client_as("decision-maker")
    assert post_callback(mayor, planner_only).status_code == 403
    assert post_callback(mayor, body).status_code == 200
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    record = store.get(runs["private"].id)
    assert record.published_by == "mayor" and record.decision == "Defer"
    public = client_as("public")
    public_map = f"/api/scenarios/{record.id}/map/customers_off.bin?k=10"
    assert public.get(public_map).status_code == 200
    store.withdraw(record.id)
    assert public.get(public_map).status_code == 403


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("public", "/api/layers/{city}/water-pipes.bin", 403),
        ("public", "/api/layers/{city}/lamps.bin", 200),
        ("decision-maker", "/api/layers/{city}/water-pipes.bin", 200),
        ("public", "/api/colors/{city}/lamps/all.bin", 403),
        ("public", "/api/colors/{city}/lamps/open.bin", 200),
        ("public", "/api/colors/{city}/water-pipes/all.bin", 403),
        ("decision-maker", "/api/colors/{city}/water-pipes/all.bin", 200),
        ("decision-maker", "/api/colors/{city}/lamps/all.bin", 403),
        ("planner", "/api/colors/{city}/roads/all.bin", 404),
        ("public", "/api/hexagons/{city}/power_w.bin", 403),
        ("public", "/api/hexagons/{city}/power_w.bin?k=3", 403),
        ("public", "/api/hexagons/{city}/power_w.bin?k=10", 200),
        ("planner", "/api/hexagons/{city}/power_w.bin", 200),
        ("public", "/api/lighting/{city}/cost_mad.bin?scenario=%7B%7D", 403),
        ("public", "/api/traffic/{city}/playback.bin?scenario=%7B%7D", 403),
        ("public", "/api/scenarios/{private}/map/customers_off.bin", 403),
        ("public", "/api/scenarios/{published}/map/customers_off.bin", 403),
        ("public", "/api/scenarios/{published}/map/customers_off.bin?k=3", 403),
        ("public", "/api/scenarios/{published}/map/customers_off.bin?k=10", 200),
        ("decision-maker", "/api/scenarios/{published}/map/customers_off.bin", 200),
        ("public", "/api/scenarios/{published}/brief.html", 403),
        ("decision-maker", "/api/scenarios/{private}/brief.html", 200),
        ("decision-maker", "/api/scenarios/{private}/results.csv", 403),
        ("planner", "/api/scenarios/{private}/results.csv", 200),
    ],
)
def test_routes_check_the_role_on_the_server(client_as, runs, city_name, role, path, status):
    url = path.format(city=city_name, private=runs["private"].id, published=runs["published"].id)
    response = client_as(role).get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 403:
        assert response.get_json()["error"].startswith("forbidden: ")


def test_the_public_telemetry_has_no_cell_of_fewer_than_k_meters(
    app, as_role, client_as, telemetry_page
):
    from data.telemetry.privacy import contributors
    from data.telemetry.sensors import sensors_for

    with as_role("public"):
        manifest, _ = telemetry_page.load_hexagons("power_w")
    k = app.server.config["MADINA_MIN_CONTRIBUTORS"]
    assert manifest["minContributors"] == k and manifest["blobUrl"].endswith(f"?k={k}")
    assert client_as("public").get(manifest["blobUrl"]).status_code == 200
    meters = contributors(sensors_for(app.server.config["MADINA_CITY"]), "lamp")
    per_cell = pd.Series(meters.counts, index=meters.cells)
    for res, frames in manifest["resolutions"].items():
        for cell in frames["cells"]:
            inside = [h3.str_to_int(c) for c in h3.cell_to_children(cell, 10)]
            assert per_cell.reindex(np.array(inside, np.uint64)).fillna(0).sum() >= k, (res, cell)
    with as_role("public"):  # one area meter per district-metered area: all withheld, said so
        _, note = telemetry_page.load_hexagons("flow_m3h")
    assert note == f"Withheld: no cell of this variable has {k} meters or more."
    with as_role("planner"):
        raw, _ = telemetry_page.load_hexagons("power_w")
    assert "minContributors" not in raw
    assert len(raw["resolutions"]["10"]["cells"]) > len(manifest["resolutions"]["10"]["cells"])


def test_details_of_a_lamp_carry_its_meter_day_for_planners_only(as_role, city, details_page):
    lamp = city.lamps.iloc[0]["lamp_id"]
    with as_role("planner"):
        planner = str(details_page.show_details({"layer": "lamps", "id": lamp}))
    with as_role("public"):
        public = str(details_page.show_details({"layer": "lamps", "id": lamp}))
    assert lamp in public and "lamp-profile" in planner and "lamp-profile" not in public
    assert not isinstance(public, html.P)
    assert allows(Role.PLANNER, "raw") and not allows(Role.PUBLIC, "raw")


def test_staff_get_the_days_lamp_faults_as_alerts_and_the_public_does_not(twin, as_role, city):
    from data.lighting.lamp_day import DAY_BURNER, OUT, lamp_day
    from pages.alerts import fault_summary

    day = lamp_day(city.name, "2026-11-23")
    summary = fault_summary(city, day)
    assert summary["out"].sum() == (day.state == OUT).sum() > 0
    assert summary["day_burners"].sum() == (day.state == DAY_BURNER).sum()
    assert summary["out"].is_monotonic_decreasing
    with as_role("decision-maker"):
        staff = twin.layout()
    with as_role("public"):
        public = twin.layout()
    assert "alerts" in ids_in(staff) and "alerts" not in ids_in(public)
    assert f"{int((day.state == OUT).sum()):,}" in str(staff)


def test_the_public_map_of_an_outage_shows_cells_of_at_least_k_buildings(
    app, as_role, client_as, city, runs
):
    scenario_map = importlib.import_module("pages.scenario_map")
    published = runs["published"].id
    k = app.server.config["MADINA_MIN_CONTRIBUTORS"]
    with as_role("public"):
        public, *_ = scenario_map.show_run(published, "load_lost_kw", None, [published])
    with as_role("decision-maker"):
        staff, *_ = scenario_map.show_run(published, "load_lost_kw", None, [published])
    assert list(public["resolutions"]) == ["8"] and public["minBuildings"] == k
    assert public["blobUrl"].endswith(f"?k={k}") and "minBuildings" not in staff
    assert list(staff["resolutions"]) == ["8", "9"]
    centres = city.buildings.geometry.representative_point()
    per_cell = pd.Series(
        [h3.latlng_to_cell(y, x, 8) for x, y in zip(centres.x, centres.y, strict=True)]
    ).value_counts()
    shown = public["resolutions"]["8"]["cells"]
    assert shown and all(per_cell.get(c, 0) >= k for c in shown)
    few = [c for c in staff["resolutions"]["8"]["cells"] if per_cell.get(c, 0) < k]
    assert few and not set(few) & set(shown)  # the outage reaches small cells; they are withheld
    blob = client_as("public").get(public["blobUrl"])
    assert blob.status_code == 200 and len(blob.data) == public["byteLength"]
