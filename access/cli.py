"""``python -m app users ...``: add, list, remove accounts, change a password or a role.

Passwords are read from the terminal (twice) or, for scripts, from standard input with
``--password-stdin``; never from the command line, where other users could read them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from access.roles import AccessError, Role
from access.users import UserStore, default_db_path

STAFF = [role.value for role in Role if role is not Role.PUBLIC]  # the public needs no account


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app users", description=__doc__)
    parser.add_argument("--db", help=f"the accounts file (default {default_db_path()})")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=STAFF)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("list", help="list the accounts")
    remove = commands.add_parser("remove", help="remove an account")
    remove.add_argument("username")
    passwd = commands.add_parser("passwd", help="change a password (ends its sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    role = commands.add_parser("role", help="change an account's role (ends its sessions)")
    role.add_argument("username")
    role.add_argument("role", choices=STAFF)
    return parser


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise AccessError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    """Run the users command; 0 on success, 2 with the reason on stderr otherwise."""
    args = _parser().parse_args(argv)
    store = UserStore(args.db) if args.db else UserStore()
    try:
        if args.command == "add":
            user = store.add(args.username, _password(args.password_stdin), args.role)
            print(f"added {user.username} ({user.role.value}) to {store.path}")
        elif args.command == "list":
            for user in store.users():
                print(f"{user.username}\t{user.role.value}\tsince {user.created_at[:10]}")
        elif args.command == "remove":
            store.remove(args.username)
            print(f"removed {args.username} from {store.path}")
        elif args.command == "passwd":
            store.set_password(args.username, _password(args.password_stdin))
            print(f"changed the password of {args.username}")
        elif args.command == "role":
            user = store.set_role(args.username, args.role)
            print(f"{user.username} is now {user.role.value}")
    except AccessError as err:
        print(f"python -m app users: {err}", file=sys.stderr)
        return 2
    return 0
