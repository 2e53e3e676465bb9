"""`hotline users`: the first admin and everyone after, the password from standard input (never
the command line), listing, a new password, removal; each refusal one line, exit 2."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from unittest import mock

import pytest

from ari_app.__main__ import main
from ari_app.access.passwords import Passwords
from ari_app.access.users import User, UserStore
from ari_app.db.database import open_database
from kernel.http.auth import Role

PASSWORD = "correct horse battery staple"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(f"database_url: sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}\n"
                    "queues:\n  - {id: claims, name: Claims}\n  - {id: billing, name: Billing}\n")
    return path


def users(config: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (mock.patch("sys.stdin", io.StringIO(stdin)), contextlib.redirect_stdout(out),
          contextlib.redirect_stderr(err)):
        code = main(["users", *args, "--config", str(config)])
    return code, out.getvalue(), err.getvalue()


def stored(config: Path, name: str) -> tuple[User, str] | None:
    async def read() -> tuple[User, str] | None:
        db = await open_database(f"sqlite+aiosqlite:///{config.parent / 'h.sqlite3'}")
        try:
            return await UserStore(db.units).get(name)
        finally:
            await db.close()

    return asyncio.run(read())


def test_users_are_added_with_argon2id_hashes_and_listed(config: Path) -> None:
    assert users(config, "add", "ada", "--role", "admin", stdin=PASSWORD + "\n") == (
        0, "added ada (admin)\n", "")
    assert users(config, "add", "sue", "--role", "supervisor", "--queues", "claims,billing",
                 stdin=PASSWORD)[1] == "added sue (supervisor, queues claims,billing)\n"
    assert users(config, "add", "al", "--role", "agent", "--agent-id", "alice",
                 stdin=PASSWORD)[1] == "added al (agent, agent alice)\n"
    code, out, _ = users(config, "list")
    assert code == 0
    assert [line.split("\t")[:3] for line in out.splitlines()] == [
        ["ada", "admin", ""], ["al", "agent", "agent alice"],
        ["sue", "supervisor", "queues claims,billing"]]
    sue, al = stored(config, "sue"), stored(config, "al")
    assert sue is not None and al is not None
    assert sue[1].startswith("$argon2id$") and PASSWORD not in sue[1]
    assert sue[0].principal().queues == frozenset({"claims", "billing"})
    assert al[0].principal().agent_id == "alice"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("add", "bob", "--role", "agent"), "short\n", "a password needs at least 12 characters"),
    (("add", "bob", "--role", "agent"), "", "no password on standard input"),
    (("add", "bob", "--role", "qa", "--queues", "sales"), PASSWORD, "--queues: unknown queue "
                                                                     "'sales'"),
    (("add", "bob", "--role", "agent", "--queues", "claims"), PASSWORD,
     "--queues is for the roles supervisor and qa"),
    (("add", "bob", "--role", "qa", "--agent-id", "b"), PASSWORD, "--agent-id is for the role "
                                                                  "agent"),
    (("add", "bo b", "--role", "admin"), PASSWORD, "user name 'bo b': 1 to 128 of"),
    (("passwd", "nobody"), PASSWORD, "no user 'nobody'"),
    (("remove", "nobody"), "", "no user 'nobody'"),
])  # fmt: skip
def test_what_the_users_command_refuses_is_one_line(
    config: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    code, out, err = users(config, *args, stdin=stdin)
    assert (code, out) == (2, "")
    assert err.startswith(f"hotline users: {message}"), err
    assert len(err.splitlines()) == 1


def test_a_name_is_added_once(config: Path) -> None:
    assert users(config, "add", "ada", "--role", "admin", stdin=PASSWORD)[0] == 0
    assert users(config, "add", "ada", "--role", "qa", stdin=PASSWORD) == (
        2, "", "hotline users: user 'ada' exists already\n")


def test_a_password_never_comes_from_the_command_line(config: Path) -> None:
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        main(["users", "add", "ada", "--role", "admin", "--password", PASSWORD,
              "--config", str(config)])


def test_a_new_password_and_removal(config: Path) -> None:
    users(config, "add", "ada", "--role", "admin", stdin=PASSWORD)
    assert users(config, "passwd", "ada", stdin="another long passphrase\n")[0] == 0
    found = stored(config, "ada")
    assert found is not None
    assert asyncio.run(Passwords().verify(found[1], "another long passphrase"))
    assert users(config, "remove", "ada") == (0, "removed ada\n", "")
    assert stored(config, "ada") is None


def test_every_role_may_be_given() -> None:
    assert {r.value for r in Role} == {"agent", "supervisor", "qa", "admin", "auditor",
                                       "editor"}
