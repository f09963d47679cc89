"""Log-in throttling: failed log-ins counted per client address and per user name.

Flask-Limiter counts only the log-ins that fail (401); a successful one costs nothing. After
``limit`` failures within its window (default 10 per 15 minutes) the form refuses that address,
or that user name from any address, with 429 until the window has passed, whatever the
password. The counts live in the server process's memory, so a restart clears them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import flask
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many

from access.roles import AccessError
from data.settings import setting

LOG = logging.getLogger("madina.access")
LIMIT_ENV = "MADINA_LOGIN_LIMIT"


def login_throttle(
    server: flask.Flask, page: Callable[[str, int], flask.Response], limit: str | None = None
) -> Callable[[Callable], Callable]:
    """A decorator for the log-in view: `limit` failed POSTs per address and per user name.

    ``page(message, status)`` renders the refusal; ``limit`` defaults to ``MADINA_LOGIN_LIMIT``
    or 10 per 15 minutes, in Flask-Limiter's notation ("5 per minute; 20 per hour").
    """
    limit = (limit or setting(LIMIT_ENV)).strip()
    try:
        parse_many(limit)
    except ValueError:
        raise AccessError(
            f"{LIMIT_ENV}={limit!r} is not a rate; write it as '10 per 15 minutes'"
        ) from None
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://")

    def failed(response: flask.Response) -> bool:
        return response.status_code == 401

    def refusal(whose: str) -> Callable[[RequestLimit], flask.Response]:
        def on_breach(request_limit: RequestLimit) -> flask.Response:
            minutes = max(1, math.ceil((request_limit.reset_at - time.time()) / 60))
            too_many = f"too many failed log-ins {whose.format(name=repr(form_username()))}"
            LOG.warning(
                "log-in refused: %s (%s), from %s",
                too_many,
                request_limit.limit,
                get_remote_address(),
            )
            plural = "s" if minutes > 1 else ""
            message = f"{too_many.capitalize()}: try again in {minutes} minute{plural}."
            return page(message, 429)

        return on_breach

    def throttled(view: Callable) -> Callable:
        per_name = limiter.limit(
            limit, key_func=lambda: f"user:{form_username()}", methods=["POST"],
            deduct_when=failed, on_breach=refusal("for {name}"),
        )  # fmt: skip
        per_address = limiter.limit(
            limit, methods=["POST"], deduct_when=failed,
            on_breach=refusal("from this address"),
        )  # fmt: skip
        return per_address(per_name(view))

    return throttled


def form_username() -> str:
    """The user name the posted log-in form names (trimmed, lower case, at most 64 characters)."""
    return flask.request.form.get("username", "").strip().lower()[:64]
