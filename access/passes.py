"""Render passes: short-lived signed bearer tokens for the server's own headless browser.

A pass lets the video export's renderer see the twin as one account sees it, and nothing more.

A pass is signed with the app's secret key and names the account as its session does (name,
role, password date), so a change of password or role, or the account's removal, voids it like
a session. It never reaches a user's browser: the server mints it for its own renderer.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from access.users import User

SALT = "madina-render-pass"
PASS_SECONDS = 2 * 3600  # the longest an export may render
HEADER = "Authorization"
SCHEME = "Bearer "


def issue_pass(secret_key: str, user: User) -> str:
    """A pass for ``user``, valid `PASS_SECONDS` from now; send it as ``Authorization: Bearer``."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(
        [user.username, user.role.value, user.password_changed_at]
    )


def read_pass(secret_key: str, header: str | None) -> tuple[str, str, str] | None:
    """(username, role, password date) of a valid pass in an Authorization header, else None.

    Forged, tampered, expired or malformed passes give None: the request is the public's.
    """
    if not header or not header.startswith(SCHEME):
        return None
    try:
        claims = URLSafeTimedSerializer(secret_key, salt=SALT).loads(
            header[len(SCHEME) :].strip(), max_age=PASS_SECONDS
        )
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(claims, list) or len(claims) != 3:
        return None
    if not all(isinstance(claim, str) for claim in claims):
        return None
    return claims[0], claims[1], claims[2]
