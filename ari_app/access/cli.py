"""`hotline users …`: make the people who log in (the first admin too), list them, change a
password, remove someone. Passwords are read from a prompt (twice) or, when standard input is
not a terminal, from its first line: never from the command line, where `ps` and shell
histories would keep them.

    hotline users add NAME --role admin [--queues a,b] [--agent-id X]
    hotline users list
    hotline users passwd NAME
    hotline users remove NAME
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ari_app.access.passwords import PasswordPolicyError, Passwords
from ari_app.access.users import User, UserExists, UserStore, check_name
from ari_app.settings import Settings
from kernel.db.errors import DatabaseError
from kernel.db.unit import Units
from kernel.http.auth import SCOPED_BY_QUEUE, Role

Command = Callable[[argparse.Namespace], int]
Action = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


class UsersError(Exception):
    """What the users command refuses; printed as one line, exit status 2."""


def add_users_command(sub: Any, parents: list[argparse.ArgumentParser],
                      load: Callable[[Path], Settings]) -> None:  # fmt: skip
    """Declare `users` and its sub-commands on the CLI's sub-parsers; `load(config)` gives the
    settings."""
    users = sub.add_parser("users", parents=parents, help="people who log in to the HTTP API")
    users_sub = users.add_subparsers(required=True, metavar="ACTION")
    add = users_sub.add_parser("add", parents=parents, help="add a user (password: prompt or "
                               "the first line of standard input)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--queues", help="supervisor, qa: only these queues (comma-separated); "
                     "default: every queue")
    add.add_argument("--agent-id", help="agent: the agent they are (default: NAME)")
    listing = users_sub.add_parser("list", parents=parents, help="list the users")
    passwd = users_sub.add_parser("passwd", parents=parents, help="set a user's password")
    passwd.add_argument("name")
    remove = users_sub.add_parser("remove", parents=parents,
                                  help="remove a user (their sessions end)")
    remove.add_argument("name")
    for parser, action in ((add, _add), (listing, _list), (passwd, _passwd), (remove, _remove)):
        parser.set_defaults(command=_runner(action, load))


def _runner(action: Action, load: Callable[[Path], Settings]) -> Command:
    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(action(args, load(args.config)))
        except (UsersError, DatabaseError) as exc:
            print(f"hotline users: {exc}", file=sys.stderr)
            return 2

    return run


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    role = Role(args.role)
    try:
        name = check_name(args.name)
        agent_id = check_name(args.agent_id, "agent id") if args.agent_id else None
    except ValueError as exc:
        raise UsersError(str(exc)) from None
    queues = _queues(args.queues, role, {q.id for q in settings.queues})
    if agent_id is not None and role is not Role.AGENT:
        raise UsersError("--agent-id is for the role agent")
    user = User(name, role, agent_id, queues, datetime.now(UTC))
    password = read_password(sys.stdin)
    async with _database(settings) as units:
        try:
            await UserStore(units).add(user, await Passwords().hash(password))
        except (UserExists, PasswordPolicyError) as exc:
            raise UsersError(str(exc)) from None
    print(f"added {name} ({role.value}{_scope(user)})")
    return 0


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with _database(settings) as units:
        users = await UserStore(units).all()
    for user in users:
        print(f"{user.username}\t{user.role.value}\t{_scope(user).removeprefix(', ')}\t"
              f"{user.created_at:%Y-%m-%d %H:%M}Z")
    return 0


async def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(sys.stdin)
    async with _database(settings) as units:
        try:
            changed = await UserStore(units).set_password(args.name,
                                                          await Passwords().hash(password))
        except PasswordPolicyError as exc:
            raise UsersError(str(exc)) from None
    if not changed:
        raise UsersError(f"no user {args.name!r}")
    print(f"password of {args.name} changed")
    return 0


async def _remove(args: argparse.Namespace, settings: Settings) -> int:
    async with _database(settings) as units:
        if not await UserStore(units).remove(args.name):
            raise UsersError(f"no user {args.name!r}")
    print(f"removed {args.name}")
    return 0


def read_password(stdin: TextIO) -> str:
    """From the terminal (asked twice, not echoed), or the first line of a pipe."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise UsersError("the two passwords differ")
        return first
    line = stdin.readline().rstrip("\r\n")
    if not line:
        raise UsersError("no password on standard input")
    return line


def _queues(raw: str | None, role: Role, known: set[str]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if role not in SCOPED_BY_QUEUE:
        raise UsersError("--queues is for the roles supervisor and qa")
    queues = tuple(q.strip() for q in raw.split(",") if q.strip())
    if unknown := [q for q in queues if q not in known]:
        raise UsersError(f"--queues: unknown queue {', '.join(map(repr, unknown))}")
    if not queues:
        raise UsersError("--queues: name at least one queue")
    return queues


def _scope(user: User) -> str:
    if user.role is Role.AGENT:
        return f", agent {user.agent_id or user.username}"
    if user.queues is not None:
        return f", queues {','.join(user.queues)}"
    return ", every queue" if user.role in SCOPED_BY_QUEUE else ""


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Units]:
    """The service's database, migrated as the service opens it."""
    from ari_app.db.database import open_database  # the database module imports every room

    db = await open_database(settings.database_url)
    try:
        yield db.units
    finally:
        await db.close()
