"""What access control costs: the guard on each callback, a login, the public's k-suppression.

Run: python benchmarks/access_overhead.py
Baselines in the same run: the same callback request with the guard's check skipped, a login's
page load without the password check, and the unsuppressed telemetry pack (beside the
suppression that counts registered meters, and the one that counts who reported each hour).
"""

from __future__ import annotations

import logging
import re
import statistics
import tempfile
import time
from pathlib import Path

from timing import timed  # benchmarks/timing.py (scripts run from this folder)

from app import create_app
from data.city.clock import time_zone
from data.city.grid import BASE_RES
from data.telemetry.cube import CUBE_RESOLUTIONS
from data.telemetry.day_cube import day_cubes
from data.telemetry.privacy import contributors, suppressed_cube
from data.telemetry.sensors import VARIABLES, sensors_for
from layers.hexagons import _packed_hexagons, pack_hexagons, packed_hexagons

PASSWORD = "benchmark password only"


def main() -> None:
    logging.getLogger("madina.access").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {"scenario_db": folder / "s.sqlite", "user_db": folder / "u.sqlite", "secret_key": "b" * 32}
    )
    from access.users import UserStore

    store = UserStore(folder / "u.sqlite")
    store.add("bench", PASSWORD, "planner")

    def log_in() -> float:
        """Seconds of one login POST by a fresh browser session (its form fetched first)."""
        fresh = app.server.test_client()
        page = fresh.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        started = time.perf_counter()
        response = fresh.post(
            "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        return time.perf_counter() - started

    login = statistics.median(log_in() for _ in range(5))
    client = app.server.test_client()
    verify = timed(lambda: store.verify("bench", PASSWORD), 10)[0]
    form = timed(lambda: client.get("/login"), 10)[0]
    print(f"login: {1000 * login:.0f} ms, of which the argon2id check {1000 * verify:.0f} ms "
          f"(the login form alone: {1000 * form:.1f} ms)")  # fmt: skip

    client.get("/")  # Dash builds its callback map on the first request
    body = {
        "output": "sc-compare.children",
        "outputs": {"id": "sc-compare", "property": "children"},
        "inputs": [
            {"id": "sc-table", "property": "selected_row_ids", "value": []},
            {"id": "sc-done", "property": "data", "value": None},
        ],
        "state": [{"id": "twin-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["sc-table.selected_row_ids"],
    }
    token = client.get_cookie("_csrf_token").value
    headers = {"X-CSRFToken": token}
    answer = client.post("/_dash-update-component", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
    guarded = timed(lambda: client.post("/_dash-update-component", json=body, headers=headers), 50)
    hooks = app.server.before_request_funcs[None]
    guard = next(f for f in hooks if f.__name__ == "guard_callback")
    hooks.remove(guard)
    bare = timed(lambda: client.post("/_dash-update-component", json=body, headers=headers), 50)
    hooks.insert(0, guard)
    print(f"a callback request: {1000 * guarded[0]:.2f} ms guarded, {1000 * bare[0]:.2f} ms "
          f"without the guard ({guarded[0] / bare[0]:.2f}x)")  # fmt: skip

    city, day = app.server.config["MADINA_CITY"], app.server.config["MADINA_TELEMETRY_DAY"]
    packed_hexagons(city, day, "power_w")  # the day's cubes, built once for both
    cubes = day_cubes(city, day)

    def registered(variable: str):
        """The rule counting registered meters: one tree for the whole day (the former one)."""
        fleet = contributors(sensors_for(city), VARIABLES[variable].kind)
        views = {r: suppressed_cube(cubes[BASE_RES], fleet, r, k=10) for r in CUBE_RESOLUTIONS}
        return pack_hexagons(views, variable, time_zone(city))

    for variable in ("power_w", "vehicles", "speed_kmh"):
        raw = timed(lambda v=variable: _packed_hexagons.__wrapped__(city, day, v, 0), 3)
        whole_day = timed(lambda v=variable: registered(v), 3)
        suppressed = timed(lambda v=variable: _packed_hexagons.__wrapped__(city, day, v, 10), 3)
        shown = {
            name: sum(len(p["cells"]) for p in packed[1].manifest["resolutions"].values())
            for name, packed in (("day", whole_day), ("hour", suppressed))
        }
        print(
            f"{variable}: packing the day {1000 * raw[0]:.0f} ms raw ({len(raw[1].blob):,} B); "
            f"k=10 counting registered meters {1000 * whole_day[0]:.0f} ms "
            f"({whole_day[0] / raw[0]:.1f}x); k=10 counting who reported each hour "
            f"{1000 * suppressed[0]:.0f} ms ({suppressed[0] / raw[0]:.1f}x, "
            f"{len(suppressed[1].blob):,} B); cells over the four views: {shown['day']:,} "
            f"by the day's tree, {shown['hour']:,} by the hours' trees"
        )


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
