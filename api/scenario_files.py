"""Files of stored runs (NetCDF, CSV, GeoJSON cells, the brief, the map's frames) and videos.

A run another role may not see is refused (403, `access.guard.readable_run`); an unknown one
is a 404, an unfinished one a 409.
"""

from __future__ import annotations

import flask

from access.auth import current_username
from access.guard import readable_run, require
from access.roles import EXPORT, LIBRARY
from api import blob, error, requested_k
from data.errors import MadinaError
from data.store.scenarios import ScenarioStoreError, open_store
from layers.run_playback import packed_stored_run
from simulation.compare import CompareError
from simulation.exports import brief_html, cells_geojson, results_csv
from video.jobs import VideoJobs, videos_dir
from video.render import VideoError


def register_scenario_routes(server: flask.Flask) -> None:
    """Exports of stored runs (NetCDF, CSV, GeoJSON cells, the brief) and video files."""

    def readable(scenario_id: str):
        # ScenarioStoreError -> 404 below; a run the role may not see -> 403
        return readable_run(open_store(server.config["MADINA_SCENARIO_DB"]), scenario_id)

    def finished(scenario_id: str):
        store = open_store(server.config["MADINA_SCENARIO_DB"])
        record = readable(scenario_id)
        if record.status != "done":
            raise CompareError(f"scenario {scenario_id} ({record.name}) is {record.status}")
        return store, record

    def download(body, mimetype: str, filename: str) -> flask.Response:
        return flask.Response(
            body,
            mimetype=mimetype,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "private, no-store",
            },
        )

    @server.get("/api/scenarios/<scenario_id>/map/<variable>.bin")
    def scenario_map_blob(scenario_id: str, variable: str) -> flask.Response:
        """A stored run's hexagon frames.

        ``?against=<id>``: its difference to that run; ``?scale_with=<id>``: coloured on one
        scale with that run (the two maps of a split view); ``?k=``: the public's view of a
        utility network run (cells of at least k buildings), which it must ask for.
        """
        against = flask.request.args.get("against") or None
        scale_with = flask.request.args.get("scale_with") or None
        k = requested_k(flask.request.args.get("k"), LIBRARY, "run map cells")
        try:
            for shown in filter(None, (scenario_id, against, scale_with)):
                readable(shown)
            packed = packed_stored_run(
                server.config["MADINA_SCENARIO_DB"], scenario_id, variable, against, scale_with, k
            )
        except ScenarioStoreError as err:
            return error(404, str(err))
        except CompareError as err:
            return error(409, str(err))
        except MadinaError as err:
            return error(422, str(err))
        return blob(packed.blob)

    @server.get("/api/scenarios/<scenario_id>/<export>")
    def scenario_export(scenario_id: str, export: str) -> flask.Response:
        exports = ("results.nc", "results.csv", "cells.geojson", "brief.html")
        if export not in exports:
            return error(404, f"unknown export {export!r}; known: {', '.join(exports)}")
        # the brief is a report (KPIs, map, chart); the others are the run's data
        require(LIBRARY if export == "brief.html" else EXPORT, f"the {export} export")
        try:
            store, record = finished(scenario_id)
            if export == "results.nc":
                return flask.send_file(
                    store.result_path(record),
                    mimetype="application/x-netcdf",
                    as_attachment=True,
                    download_name=f"madina-{record.kind}-{record.id}.nc",
                )
            results = store.result_dataset(record)
            if export == "results.csv":
                text = results_csv(results, record.city)
                return download(text, "text/csv", f"madina-{record.kind}-{record.id}.csv")
            if export == "cells.geojson":
                body = flask.json.dumps(cells_geojson(results))
                name = f"madina-{record.kind}-{record.id}.geojson"
                return download(body, "application/geo+json", name)
            against = flask.request.args.get("against")
            if against:
                _, reference = finished(against)
                page = brief_html(record, results, reference, store.result_dataset(reference))
            else:
                page = brief_html(record, results)
            return flask.Response(
                page, mimetype="text/html", headers={"Cache-Control": "private, no-store"}
            )
        except ScenarioStoreError as err:
            return error(404, str(err))
        except CompareError as err:
            return error(409, str(err))

    @server.get("/api/videos/<job_id>/<fmt>")
    def video_file(job_id: str, fmt: str) -> flask.Response:
        """A finished video export (``mp4`` or ``gif``), for the account that asked for it."""
        require(LIBRARY, "video exports")
        jobs = VideoJobs(videos_dir(server.config["MADINA_SCENARIO_DB"]))
        try:
            job = jobs.get(job_id)
            if job.owner != current_username():  # someone else's: as if there were none
                raise VideoError(f"no video job {job_id!r}")
            path = jobs.file(job_id, fmt)
        except MadinaError as err:
            return error(404, str(err))
        if path is None:
            return error(409, f"video job {job_id} has no {fmt}: still rendering, or failed")
        return flask.send_file(
            path,
            mimetype="video/mp4" if fmt == "mp4" else "image/gif",
            as_attachment=True,
            download_name=path.name,
        )
