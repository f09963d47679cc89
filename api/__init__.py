"""The twin's HTTP routes beside Dash's: packed city blobs, stored runs' files, videos.

Every route checks the role on the server (`access.guard`) and answers a bad request with a
JSON error that names what is wrong.
"""

from __future__ import annotations

import flask

from access.auth import current_role
from access.roles import Role


def error(status: int, message: str) -> flask.Response:
    """A JSON ``{"error": message}`` answer with ``status``."""
    return flask.make_response(flask.jsonify(error=message), status)


def blob(body: bytes) -> flask.Response:
    """A binary answer; the public's may be cached an hour, staff's are never stored.

    A staff member's data must not outlive the log-out in a shared browser's cache.
    """
    public = current_role() is Role.PUBLIC
    return flask.Response(
        body,
        mimetype="application/octet-stream",
        headers={"Cache-Control": "private, max-age=3600" if public else "private, no-store"},
    )
