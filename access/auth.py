"""Login and sessions: Flask-Login over `access.users`, a plain HTML login form, expiry.

Failed log-ins are throttled per address and per user name (`access.throttle`).

Sessions end after ``session_hours`` from login (not from the last click), at log-out (even a
copy of the cookie: its id is kept as ended, `access.users.UserStore.end_session`) and when
the account's password or role changes. The signing key comes from ``MADINA_SECRET_KEY``.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

import flask
import flask_login
from flask_wtf.csrf import generate_csrf

from access.passes import HEADER, read_pass
from access.roles import Role
from access.throttle import form_username, login_throttle
from access.users import User, open_users
from data.settings import setting

LOG = logging.getLogger("madina.access")
SECRET_ENV = "MADINA_SECRET_KEY"
SESSION_HOURS_ENV = "MADINA_SESSION_HOURS"


class Account(flask_login.UserMixin):
    """A logged-in user as Flask-Login sees it; its id changes with its password or role."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = session_id(user)


def session_id(user: User) -> str:
    """What the session remembers: name, role and password date (a change ends the session)."""
    return f"{user.username}|{user.role.value}|{user.password_changed_at}"


def current_role() -> Role:
    """The role of whoever sent the current request (public when nobody is logged in)."""
    if flask.has_request_context() and flask_login.current_user.is_authenticated:
        return flask_login.current_user.user.role
    return Role.PUBLIC


def current_username() -> str | None:
    """The logged-in user's name, or None for the public."""
    if flask.has_request_context() and flask_login.current_user.is_authenticated:
        return flask_login.current_user.user.username
    return None


def init_auth(
    server: flask.Flask,
    *,
    user_db: str,
    session_hours: float | None = None,
    login_limit: str | None = None,
) -> None:
    """Sessions, Flask-Login and the /login and /logout routes on ``server``.

    ``login_limit``: failed log-ins allowed per address and per user name (`access.throttle`).
    """
    key = server.config.get("SECRET_KEY") or setting(SECRET_ENV)
    if not key:
        LOG.warning(
            "%s is not set: using a random key, so sessions end when the server restarts",
            SECRET_ENV,
        )
        key = secrets.token_hex(32)
    hours = float(session_hours or setting(SESSION_HOURS_ENV))
    server.config.update(
        SECRET_KEY=key,
        MADINA_USER_DB=str(user_db),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=setting("MADINA_SECURE_COOKIES"),
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
    )
    manager = flask_login.LoginManager(server)
    manager.session_protection = "strong"

    @manager.user_loader
    def load_account(account_id: str) -> Account | None:
        username = account_id.split("|", 1)[0]
        ended_if = flask.session.get("session_id")  # a session ended by a log-out: refused
        user = open_users(server.config["MADINA_USER_DB"]).get(username, session_id=ended_if)
        if user is None or session_id(user) != account_id:
            return None  # removed, or its password or role changed since this login
        return Account(user)

    @server.before_request
    def log_in_render_pass() -> None:
        """Log in a request with a render pass (`access.passes`) as the account it names.

        Only while that account is still as signed. The server's own renderer sends it; its
        session becomes a login.
        """
        claims = read_pass(server.config["SECRET_KEY"], flask.request.headers.get(HEADER))
        account = load_account("|".join(claims)) if claims else None
        if account is not None:
            flask_login.login_user(account)
            flask.session.setdefault("login_at", time.time())

    @server.before_request
    def end_expired_session() -> None:
        started = flask.session.get("login_at")
        lifetime = server.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if started is not None and time.time() - float(started) > lifetime:
            LOG.info("session of %s expired", flask.session.get("_user_id", "?").split("|")[0])
            flask_login.logout_user()
            flask.session.clear()

    def refused(message: str, status: int) -> flask.Response:
        target = local_target(flask.request.values.get("next"))
        return flask.make_response(_login_page(target, message), status)

    @server.route("/login", methods=["GET", "POST"])
    @login_throttle(server, refused, login_limit)
    def login() -> flask.Response | str:
        target = local_target(flask.request.values.get("next"))
        if flask.request.method == "GET":
            return _login_page(target)
        username = form_username()
        password = flask.request.form.get("password", "")
        user = open_users(server.config["MADINA_USER_DB"]).verify(username, password)
        if user is None:
            LOG.warning("failed login for %r from %s", username, flask.request.remote_addr)
            return refused("Wrong user name or password.", 401)
        flask.session.clear()  # a fresh session: nothing carried over from before the login
        flask.session.permanent = True
        flask_login.login_user(Account(user))
        flask.session["login_at"] = time.time()
        flask.session["session_id"] = secrets.token_urlsafe(24)
        LOG.info("%s logged in as %s", user.username, user.role.value)
        return flask.redirect(target)

    @server.post("/logout")
    def logout() -> flask.Response:
        session_id, started = flask.session.get("session_id"), flask.session.get("login_at")
        if session_id and started:  # a copy of this cookie must not outlive the log-out
            lifetime = server.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
            users = open_users(server.config["MADINA_USER_DB"])
            users.end_session(session_id, float(started) + lifetime)
        flask_login.logout_user()
        flask.session.clear()
        return flask.redirect("/")


def local_target(target: str | None) -> str:
    """``target`` if it is a path on this site (never another host), else the twin's page."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return "/"
    return target


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Madina Twin: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/twin.css"></head>
<body class="login-body"><main class="login-box">
<h1>Madina Twin</h1><p>Staff log in (planners and decision-makers). The public view needs no
login: <a href="/">open the twin</a>.</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ target }}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required maxlength="40">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
 maxlength="256">
<button type="submit" id="login-submit">Log in</button>
</form></main></body></html>"""


def _login_page(target: str, error: str | None = None) -> str:
    return flask.render_template_string(_PAGE, csrf=generate_csrf(), target=target, error=error)
