"""The twin's user accounts: an SQLite table of names, roles and argon2id password hashes.

Passwords are never stored or logged, only their argon2id hashes (argon2-cffi, OWASP's first
choice of key-derivation function). Every change is one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import argon2

from access.roles import AccessError, Role, parse_role
from data.settings import setting

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "instance"
DB_ENV = "MADINA_USER_DB"
MIN_PASSWORD_LENGTH = 12  # NIST SP 800-63B asks for at least 8; 12 for staff accounts
MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; a cap keeps a forged form from costing CPU
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ended_sessions (
    session_id TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
"""
_HASHER = argon2.PasswordHasher()  # argon2id, the library's current RFC 9106 parameters


@dataclass(frozen=True)
class User:
    """An account: its name, role, and when its password last changed (ends older sessions)."""

    username: str
    role: Role
    created_at: str
    password_changed_at: str


def default_db_path() -> Path:
    """``MADINA_USER_DB`` if set, else ``instance/users.sqlite`` in the project."""
    return Path(setting(DB_ENV) or DEFAULT_DIR / "users.sqlite")


@functools.lru_cache(maxsize=8)
def open_users(path: str) -> UserStore:
    """The user store at ``path``, opened once per process."""
    return UserStore(path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def check_username(username: str) -> str:
    """``username`` if it is 2-40 lower-case letters, digits, dots, dashes or underscores."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise AccessError(
            f"bad user name {username!r}: use 2-40 lower-case letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    """``password`` if it is 12-256 characters long (the message never repeats it)."""
    if not isinstance(password, str) or not (
        MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH
    ):
        raise AccessError(
            f"bad password: it must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


class UserStore:
    """The accounts in the SQLite file at ``path`` (created on first use)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def add(self, username: str, password: str, role: str | Role) -> User:
        """A new account; `AccessError` if the name is taken or anything is malformed."""
        check_username(username)
        role = parse_role(role)
        digest = _HASHER.hash(check_password(password))
        now = _now()
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (username, role.value, digest, now, now),
                )
        except sqlite3.IntegrityError:
            raise AccessError(f"user {username!r} exists already in {self.path}") from None
        return User(username, role, now, now)

    def get(self, username: str, *, session_id: str | None = None) -> User | None:
        """The account named ``username``, or None; None too if ``session_id`` was ended."""
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM users WHERE username = ? AND NOT EXISTS "
                "(SELECT 1 FROM ended_sessions WHERE session_id = ?)",
                (username, session_id),
            ).fetchone()
        return _user(row) if row else None

    def end_session(self, session_id: str, expires: float) -> None:
        """Refuse the session ``session_id`` from now on (a log-out), until ``expires``.

        Session cookies are signed, not stored: a copy of one kept from before the log-out
        would still be valid until it expires, so its id is kept here until then.
        """
        with self._connect() as db:
            db.execute("DELETE FROM ended_sessions WHERE expires < ?", (time.time(),))
            db.execute("INSERT OR REPLACE INTO ended_sessions VALUES (?, ?)", (session_id, expires))

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [_user(row) for row in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The account if ``password`` is its password, else None (same work either way)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        digest = row["password_hash"] if row else _dummy_hash()
        try:
            _HASHER.verify(digest, str(password)[:MAX_PASSWORD_LENGTH])
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return None
        if row is None:
            return None
        if _HASHER.check_needs_rehash(digest):  # parameters moved on since it was hashed
            with self._connect() as db:
                db.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    (_HASHER.hash(password), username),
                )
        return _user(row)

    def set_password(self, username: str, password: str) -> User:
        """Change a password; sessions opened with the old one end."""
        digest = _HASHER.hash(check_password(password))
        return self._update(username, "password_hash = ?, password_changed_at = ?", digest, _now())

    def set_role(self, username: str, role: str | Role) -> User:
        """Change an account's role."""
        return self._update(username, "role = ?", parse_role(role).value)

    def remove(self, username: str) -> None:
        """Delete an account; `AccessError` if there is none of that name."""
        with self._connect() as db:
            if db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                raise AccessError(f"no user {username!r} in {self.path}")

    def _update(self, username: str, assignments: str, *args) -> User:
        with self._connect() as db:
            changed = db.execute(
                f"UPDATE users SET {assignments} WHERE username = ?", (*args, username)
            ).rowcount
        if not changed:
            raise AccessError(f"no user {username!r} in {self.path}")
        return self.get(username)


def _user(row: sqlite3.Row) -> User:
    return User(row["username"], Role(row["role"]), row["created_at"], row["password_changed_at"])


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown: a wrong name costs what a wrong password does."""
    return _HASHER.hash("not a password of anyone's")
