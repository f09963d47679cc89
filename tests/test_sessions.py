"""Accounts and sessions: argon2id hashes, the users CLI, log-in, throttling, expiry, log-out.

Through the app's real log-in form and account database, as a browser (or an attacker's
script) would use them.
"""

import logging

import pytest

from access.auth import local_target
from access.roles import Role
from tests.conftest import PASSWORD, csrf_token


def test_accounts_keep_argon2id_hashes_and_refuse_bad_input(tmp_path):
    from access.roles import AccessError
    from access.users import UserStore

    store = UserStore(tmp_path / "users.sqlite")
    store.add("amina", "a long enough password", "planner")
    assert store.verify("amina", "a long enough password").role is Role.PLANNER
    assert store.verify("amina", "a long enough passworD") is None
    assert store.verify("nobody", "a long enough password") is None
    raw = (tmp_path / "users.sqlite").read_bytes()
    assert b"a long enough password" not in raw and b"$argon2id$" in raw
    with pytest.raises(AccessError, match="exists already"):
        store.add("amina", "another long password", "planner")
    with pytest.raises(AccessError, match="bad user name"):
        store.add("Robert'); DROP TABLE users;--", "a long enough password", "planner")
    with pytest.raises(AccessError, match="12 to 256 characters"):
        store.add("short", "2short", "planner")
    with pytest.raises(AccessError, match="unknown role 'mayor'; known: public"):
        store.add("mayor", "a long enough password", "mayor")
    assert [u.username for u in store.users()] == ["amina"]


def test_the_users_cli_adds_lists_and_removes_accounts(tmp_path):
    import subprocess
    import sys

    db = str(tmp_path / "users.sqlite")

    def cli(*args, stdin=""):
        return subprocess.run(
            [sys.executable, "-m", "app", "users", "--db", db, *args],
            input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    added = cli("add", "karim", "--role", "decision-maker", "--password-stdin",
                stdin="budget committee 2027\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added karim (decision-maker)" in added.stdout
    assert "karim\tdecision-maker" in cli("list").stdout
    refused = cli("add", "karim2", "--role", "planner", "--password-stdin", stdin="short\n")
    assert refused.returncode == 2 and "bad password" in refused.stderr
    assert cli("role", "karim", "planner").returncode == 0
    assert cli("remove", "karim").returncode == 0
    assert cli("remove", "karim").returncode == 2
    assert cli("list").stdout == ""


def test_logging_in_checks_the_password_the_token_and_the_target(app, accounts, caplog):
    client = app.server.test_client()
    token = csrf_token(client)
    with caplog.at_level(logging.WARNING, logger="madina.access"):
        wrong = client.post(
            "/login", data={"username": "salma", "password": "guess", "csrf_token": token}
        )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.get_data(True)
    assert "failed login for 'salma'" in caplog.text
    forged = client.post("/login", data={"username": "salma", "password": "x" * 28})
    assert forged.status_code == 400  # no CSRF token: a form posted from another site
    ok = client.post(
        "/login?next=https://evil.example/",
        data={"username": "salma", "password": "correct horse battery staple",
              "csrf_token": csrf_token(client)},
    )  # fmt: skip
    assert ok.status_code == 302 and ok.headers["Location"] == "/"  # never another host
    for target in ("//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        assert local_target(target) == "/", target
    assert local_target("/?lang=fr") == "/?lang=fr"
    assert client.get("/api/colors/casablanca/lamps/all.bin").status_code == 200
    logout = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert logout.status_code == 302
    assert client.get("/api/colors/casablanca/lamps/all.bin").status_code == 403


def test_failed_log_ins_are_throttled_per_address_and_per_user_name(app, accounts, caplog):
    """Ten failures lock the address and the name out, whatever the password; successes are free.

    Addresses from the documentation range (RFC 5737) and an account of its own keep the
    session's shared app usable for the other tests.
    """
    from access.users import UserStore

    UserStore(app.server.config["MADINA_USER_DB"]).add("nadia", "nadia's long password", "planner")

    def client_from(address):
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    def attempt(client, username, password):
        return client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        )

    fine = client_from("192.0.2.1")
    for _ in range(12):  # successful log-ins are not counted
        assert attempt(fine, "nadia", "nadia's long password").status_code == 302
    attacker = client_from("192.0.2.66")
    for n in range(10):
        assert attempt(attacker, f"guess{n}", "wrong").status_code == 401
    with caplog.at_level(logging.WARNING, logger="madina.access"):
        locked = attempt(attacker, "nadia", "nadia's long password")  # right, but too late
    assert locked.status_code == 429
    assert "Too many failed log-ins from this address: try again in 1" in locked.get_data(True)
    assert "too many failed log-ins from this address (10 per 15 minute" in caplog.text
    assert "192.0.2.66" in caplog.text
    assert attempt(client_from("192.0.2.2"), "nadia", "nadia's long password").status_code == 302

    for n in range(10):  # one name guessed from ten addresses
        assert attempt(client_from(f"198.51.100.{n}"), "nadia", "wrong").status_code == 401
    named = attempt(client_from("198.51.100.99"), "nadia", "nadia's long password")
    assert named.status_code == 429
    assert "Too many failed log-ins for &#39;nadia&#39;" in named.get_data(True)
    assert attempt(client_from("198.51.100.99"), "salma", PASSWORD).status_code == 302


def test_a_login_limit_that_is_not_a_rate_is_refused_by_name(tmp_path):
    import flask

    from access.roles import AccessError
    from access.throttle import login_throttle

    with pytest.raises(AccessError, match=r"MADINA_LOGIN_LIMIT='ten a minute' is not a rate"):
        login_throttle(flask.Flask("x"), lambda message, status: message, "ten a minute")


def test_a_session_ends_after_its_hours(app, client_as, city_name):
    client = client_as("planner")
    assert client.get(f"/api/colors/{city_name}/lamps/all.bin").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] -= app.server.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 1
    assert client.get(f"/api/colors/{city_name}/lamps/all.bin").status_code == 403


def test_a_password_change_ends_the_sessions_opened_with_the_old_one(app, client_as, city_name):
    from access.users import UserStore

    store = UserStore(app.server.config["MADINA_USER_DB"])
    store.add("rachid", "first password 1234", "planner")
    from tests.conftest import log_in

    client = app.server.test_client()
    assert log_in(client, "rachid", "first password 1234").status_code == 302
    assert client.get(f"/api/colors/{city_name}/lamps/all.bin").status_code == 200
    store.set_password("rachid", "second password 5678")
    assert client.get(f"/api/colors/{city_name}/lamps/all.bin").status_code == 403
    store.remove("rachid")


def test_a_copy_of_the_session_cookie_is_refused_after_log_out(app, accounts, city_name):
    from tests.conftest import log_in

    staff_only = f"/api/colors/{city_name}/lamps/all.bin"
    client = app.server.test_client()
    assert log_in(client, "salma").status_code == 302
    copy = client.get_cookie("session").value  # as a thief or a shared computer keeps it
    assert client.get(staff_only).status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    replay = app.server.test_client()
    replay.set_cookie("session", copy)
    assert replay.get(staff_only).status_code == 403
    again = app.server.test_client()  # the account itself is fine: a new log-in works
    assert log_in(again, "salma").status_code == 302
    assert again.get(staff_only).status_code == 200


def test_staff_data_is_never_cached_and_the_publics_may_be(client_as, city_name):
    public = client_as("public").get(f"/api/layers/{city_name}/districts.bin")
    assert public.headers["Cache-Control"] == "private, max-age=3600"
    staff = client_as("planner").get(f"/api/colors/{city_name}/lamps/all.bin")
    assert staff.status_code == 200 and staff.headers["Cache-Control"] == "private, no-store"
