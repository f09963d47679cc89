"""The server-side guard: every Dash callback and every route is checked against the role.

Hidden buttons are not security. A callback request names its callback; the guard looks up
every component it reads or writes, asks `permission_of` what each needs, and refuses
(403, logged) a request whose role lacks one. Components nobody classified are refused too.
Also here: CSRF on every POST (Dash sends the token from the ``_csrf_token`` cookie) and the
security headers (a Content-Security-Policy that runs only this server's scripts).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import dash
import flask
from dash._utils import split_callback_id
from flask_wtf.csrf import CSRFProtect, generate_csrf

from access.auth import current_role, current_username
from access.roles import LIBRARY, allows, least_role

LOG = logging.getLogger("madina.access")
CSRF_COOKIE = "_csrf_token"  # the cookie dash-renderer reads and sends back as X-CSRFToken


def refuse(permission: str, what: str) -> None:
    """Log and abort with 403: the current user may not do ``what`` (needs ``permission``)."""
    role = current_role()
    needed = least_role(permission)
    LOG.warning(
        "refused %s: %s (%s) from %s; needs %s",
        what,
        current_username() or "anonymous",
        role.value,
        flask.request.remote_addr if flask.has_request_context() else "-",
        permission,
    )
    message = f"{what} needs the {needed.value if needed else permission!r} role"
    flask.abort(flask.make_response(flask.jsonify(error=f"forbidden: {message}"), 403))


def require(permission: str, what: str) -> None:
    """Refuse (403, logged) unless the current role holds ``permission``."""
    if not allows(current_role(), permission):
        refuse(permission, what)


def readable_run(store, scenario_id: str):
    """A stored run's record if the current role may see it, else 403 (logged).

    Published runs are everyone's; the others need LIBRARY. A public page only lists the
    published ones, so asking for another is a forged request. ``store``: a `ScenarioStore`.
    """
    record = store.get(str(scenario_id))
    if record.published_at is None:
        require(LIBRARY, f"the unpublished scenario {scenario_id}")
    return record


def requires(permission: str, what: str) -> Callable:
    """Route decorator: `require` ``permission`` before the view runs."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            require(permission, what)
            return view(*args, **kwargs)

        return guarded

    return wrap


def callback_components(callback: dict, output: str) -> list[str]:
    """Every component id a callback reads or writes (pattern ids by their ``type``)."""
    specs = [*callback.get("inputs", []), *callback.get("state", [])]
    outputs = split_callback_id(output)
    specs += outputs if isinstance(outputs, list) else [outputs]
    ids = []
    for spec in specs:
        key = spec["id"]
        ids.append(key.get("type", str(key)) if isinstance(key, dict) else str(key))
    return ids


def init_guard(app: dash.Dash, permission_of: Callable[[str], str | None]) -> None:
    """Guard ``app``'s callbacks by ``permission_of(component id)``; CSRF; security headers.

    The guard's hook is registered before CSRFProtect's, so a request the role may not make
    is refused (403, logged) before its CSRF token is even looked at.
    """
    server = app.server
    update_path = app.config.requests_pathname_prefix + "_dash-update-component"

    @server.before_request
    def guard_callback() -> None:
        if flask.request.path != update_path or flask.request.method != "POST":
            return
        body = flask.request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        callback = app.callback_map.get(output) if isinstance(output, str) else None
        if callback is None:
            LOG.warning(
                "refused an unknown callback %r from %s",
                str(output)[:120],  # forged: keep the log line short
                flask.request.remote_addr,
            )
            flask.abort(
                flask.make_response(
                    flask.jsonify(error=f"unknown callback {str(output)[:120]!r}"), 403
                )
            )
        for component in callback_components(callback, output):
            permission = permission_of(component)
            if permission is None:
                refuse("unclassified", f"the callback on {component!r} (unclassified)")
            if not allows(current_role(), permission):
                refuse(permission, f"the callback on {component!r}")

    # a token lasts as long as the session it belongs to
    lifetime = server.config.get("PERMANENT_SESSION_LIFETIME")
    server.config["WTF_CSRF_TIME_LIMIT"] = int(lifetime.total_seconds()) if lifetime else None
    CSRFProtect(server)

    @server.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        response.headers["Content-Security-Policy"] = _policy(app)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.mimetype == "text/html":
            response.set_cookie(  # readable by dash-renderer, sent back in a header
                CSRF_COOKIE,
                generate_csrf(),
                samesite="Strict",
                httponly=False,
                secure=server.config.get("SESSION_COOKIE_SECURE", False),
            )
        return response


@functools.lru_cache(maxsize=4)
def _scripts(app: dash.Dash) -> str:
    # Dash's inline scripts (the renderer's start, inline clientside callbacks) by hash: the
    # page runs them and nothing else that is not a file from this server.
    return " ".join(app.csp_hashes())  # each comes quoted, as the policy wants it


def _policy(app: dash.Dash) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {_scripts(app)}",
            "style-src 'self' 'unsafe-inline'",  # React and Plotly set inline styles
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
