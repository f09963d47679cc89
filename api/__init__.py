"""The twin's HTTP routes beside Dash's: packed city blobs, stored runs' files, videos.

Every route checks the role on the server (`access.guard`) and answers a bad request with a
JSON error that names what is wrong.
"""

from __future__ import annotations

import flask

from access.auth import current_role
from access.guard import refuse
from access.roles import Role, allows


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


def requested_k(asked: str | None, permission: str, what: str) -> int:
    """The ``?k=`` a request may have: at least the configured one unless it holds ``permission``.

    ``what``: the cells it would otherwise get ("telemetry cells"), for the refusal.
    """
    least = flask.current_app.config["MADINA_MIN_CONTRIBUTORS"]
    try:
        k = int(asked) if asked else 0
    except ValueError:
        flask.abort(error(422, f"k must be a whole number, not {asked!r}"))
    if k < least and not allows(current_role(), permission):
        refuse(permission, f"{what} of fewer than {least} contributors (k={k})")
    return k
