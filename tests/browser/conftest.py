"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a live app.

Every page records its requests and console: a request outside localhost or a console error
fails the test that caused it.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from urllib.parse import quote, urlparse

import numpy as np
import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from video.render import CHROMIUM, CHROMIUM_ARGS  # the server's renderer runs the same

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
READY = (
    "window.madinaTwin && window.madinaTwin.state.ready "
    "&& window.madinaTwin.state.firstRenderMs !== null"
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(app):
    from app import warm_up

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # as `python app.py` does before serving: the first page must not wait for the layers
    warm_up(app.server.config["MADINA_CITY"], app.server.config["MADINA_TELEMETRY_DAY"])
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("MADINA_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageLog:
    """Requests and console messages of one page."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.console_errors: list[str] = []

    def outside_localhost(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlparse(url).scheme not in ("data", "blob")
            and urlparse(url).hostname not in LOCAL_HOSTS
        ]


def log_in_page(page, live_server: str, username: str, target: str = "/") -> None:
    """Log in through the login form, landing on ``target``."""
    page.goto(f"{live_server}/login?next={quote(target, safe='')}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def strict_csp_waits(page) -> None:
    """Let ``page.wait_for_function`` take plain expressions under the twin's strict CSP.

    Playwright polls a string expression with ``eval``, which the Content-Security-Policy
    (no 'unsafe-eval') refuses; wrapped as a function it is compiled by the browser's devtools
    protocol instead, which the policy does not govern.
    """
    wait = page.wait_for_function

    def wait_for_function(expression: str, **options):
        if not expression.lstrip().startswith(("(", "function", "async")):
            expression = f"() => ({expression})"
        return wait(expression, **options)

    page.wait_for_function = wait_for_function


@pytest.fixture()
def open_twin(browser, live_server, accounts):
    """Function: (role="planner", target="/") -> a page with the twin loaded and drawn.

    Every page fails its test on a request outside localhost or a console error (a script
    the Content-Security-Policy blocked included).
    """
    contexts = []

    def open_page(role: str = "planner", target: str = "/"):
        context = browser.new_context(viewport={"width": 1400, "height": 850})
        contexts.append(context)
        context.on("page", strict_csp_waits)  # a test's second page too
        page = context.new_page()
        log = PageLog()
        page.on("request", lambda request: log.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                log.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: log.console_errors.append(str(error)))
        if role == "public":
            page.goto(live_server + target)
        else:
            log_in_page(page, live_server, accounts[role], target)
        page.wait_for_function(READY, timeout=90_000)
        page.wait_for_timeout(300)
        page.log = log
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            log = getattr(page, "log", None)
            if log is None:
                continue
            foreign = log.outside_localhost()
            assert not foreign, f"requests outside localhost: {foreign}"
            assert not log.console_errors, f"console errors: {log.console_errors}"
        context.close()


@pytest.fixture()
def twin_page(open_twin, request):
    """The twin as a logged-in planner sees it (every tool), loaded and drawn.

    A module marked ``pytest.mark.twin_layers("districts")`` opens it with those layers alone:
    in software rendering the roads, buildings and light points cost most of every frame
    (benchmarks/video_export.py), which tests of hexagons and studios do not look at.
    """
    marker = request.node.get_closest_marker("twin_layers")
    return open_twin("planner", f"/?layers={marker.args[0]}" if marker else "/")


def _map_pixels(page) -> np.ndarray:
    from PIL import Image

    png = page.locator("#twin-map").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture()
def map_pixels():
    """Function: page -> the map area as an (h, w, 3) uint8 array, from a real screenshot."""
    return _map_pixels
