"""Packed binary blobs of the city the twin serves: layers, colour modes, hexagons, playbacks.

One route per kind of blob; `serve_blob` checks the city and the name and packs (cached in
`layers`). What a role may fetch follows `pages.permissions`.
"""

from __future__ import annotations

import flask

from access.guard import require
from access.layer_access import layer_permission
from access.roles import RAW, RUN
from api import blob, error, requested_k
from data.errors import MadinaError
from layers.catalog import COLOR_SETS, LAYER_BUILDERS, color_modes_of, packed_colors, packed_layer
from layers.hexagons import DISPLAY, packed_hexagons
from layers.lighting.playback import PLAYBACK_DISPLAY, packed_playback
from layers.network_playback import NETWORK_DISPLAY, packed_network_playback
from layers.network_playback import playback_request as network_request
from layers.traffic.flow import packed_traffic_playback
from simulation.lighting.plans import playback_request
from simulation.traffic.scenarios import TrafficScenario


def register_city_routes(server: flask.Flask) -> None:
    """The /api/layers, colors, hexagons, lighting, networks and traffic blobs."""

    def serve_blob(city: str, name: str, known, what: str, pack) -> flask.Response:
        """A packed blob of this twin's city, or a 404/422 that names what is wrong."""
        if city != server.config["MADINA_CITY"]:
            return error(
                404, f"unknown city {city!r}; this twin serves {server.config['MADINA_CITY']!r}"
            )
        if name not in known:
            return error(404, f"unknown {what} {name!r}; known: {', '.join(known)}")
        try:
            packed = pack(name).blob
        except MadinaError as err:
            return error(422, str(err))
        return blob(packed)

    @server.get("/api/layers/<city>/<layer>.bin")
    def layer_blob(city: str, layer: str) -> flask.Response:
        if layer in LAYER_BUILDERS:
            require(layer_permission(layer), f"the {layer} layer")
        return serve_blob(
            city,
            layer,
            LAYER_BUILDERS,
            "layer",
            lambda name: packed_layer(city, name, server.config["MADINA_TELEMETRY_DAY"]),
        )

    @server.get("/api/colors/<city>/<layer>/<modes>.bin")
    def colors_blob(city: str, layer: str, modes: str) -> flask.Response:
        """A layer's colour modes: ``all`` of them (metered ones: RAW) or the ``open`` ones."""
        if layer in LAYER_BUILDERS:
            require(layer_permission(layer), f"the {layer} layer")
        try:
            colors = color_modes_of(layer)
        except MadinaError as err:
            return error(404, str(err))
        if modes == "all" and colors.open_modes is not None:
            require(RAW, f"the {layer} layer's metered colour modes")
        day = server.config["MADINA_TELEMETRY_DAY"]
        return serve_blob(
            city,
            modes,
            COLOR_SETS,
            "set of colour modes",
            lambda name: packed_colors(city, layer, day, metered=name == "all"),
        )

    @server.get("/api/hexagons/<city>/<variable>.bin")
    def hexagon_blob(city: str, variable: str) -> flask.Response:
        """A day of telemetry hexagons; ``?k=``: cells of fewer than k meters merged."""
        day = server.config["MADINA_TELEMETRY_DAY"]
        k = requested_k(flask.request.args.get("k"), RAW, "telemetry cells")
        return serve_blob(
            city,
            variable,
            DISPLAY,
            "cube variable",
            lambda name: packed_hexagons(city, day, name, k=k),
        )

    @server.get("/api/lighting/<city>/<variable>.bin")
    def lighting_blob(city: str, variable: str) -> flask.Response:
        """A scenario's time-lapse hexagons: ?scenario=<JSON>&mode=day|year&day=YYYY-MM-DD."""
        require(RUN, "a lighting what-if")
        try:
            scenario, mode, day = playback_request(flask.request.args)
        except MadinaError as err:
            return error(422, str(err))
        year = int(server.config["MADINA_TELEMETRY_DAY"][:4])
        return serve_blob(
            city,
            variable,
            PLAYBACK_DISPLAY,
            "scenario variable",
            lambda name: packed_playback(city, scenario, year, mode, day, name),
        )

    @server.get("/api/networks/<city>/<variable>.bin")
    def network_blob(city: str, variable: str) -> flask.Response:
        """A utility what-if's time-lapse: ?scenario=<JSON> of a pipe_break/pressure/outage."""
        require(RUN, "a network what-if")
        try:
            scenario = network_request(flask.request.args)
        except MadinaError as err:
            return error(422, str(err))
        return serve_blob(
            city,
            variable,
            NETWORK_DISPLAY,
            "what-if variable",
            lambda name: packed_network_playback(city, scenario, name),
        )

    @server.get("/api/traffic/<city>/<name>.bin")
    def traffic_blob(city: str, name: str) -> flask.Response:
        """A traffic run's playback: today's, or ?scenario=<JSON> of a what-if."""
        text = flask.request.args.get("scenario")
        if text:
            require(RUN, "a traffic what-if")
        try:
            scenario = TrafficScenario.from_json(text) if text else TrafficScenario()
        except MadinaError as err:
            return error(422, str(err))
        return serve_blob(
            city,
            name,
            ("playback",),
            "traffic data",
            lambda _name: packed_traffic_playback(city, scenario),
        )
