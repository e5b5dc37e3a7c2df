"""``linkarchive user …`` against a real SQLite database in a fresh data directory."""

from __future__ import annotations

import anyio

from linkarchive.http.passwords import Passwords
from linkarchive.storage.repositories import users
from tests.cli.conftest import one_line_error, services_of

PASSWORD = "correct horse battery"


def test_add_list_disable_enable(cli, cli_json) -> None:
    added = cli_json("user", "add", "Ana@Example.com", "--password", PASSWORD, "--admin")
    assert added["email"] == "Ana@Example.com" and added["admin"] is True
    cli("user", "add", "bo@example.com", "--password", PASSWORD)
    listed = cli_json("user", "list")
    assert [(u["email"], u["admin"], u["disabled"]) for u in listed] == [
        ("Ana@Example.com", True, False), ("bo@example.com", False, False)]
    text = cli("user", "list").stdout.splitlines()
    assert text[0].split() == ["ID", "EMAIL", "ADMIN", "DISABLED", "CREATED"]
    assert "bo@example.com" in text[2]

    assert cli_json("user", "disable", "ana@example.com")["disabled"] is True  # any case
    assert cli_json("user", "list")[0]["disabled"] is True
    assert cli("user", "enable", "1").stdout.strip() == "enabled user 1 <Ana@Example.com> (admin)"
    assert cli_json("user", "list")[0]["disabled"] is False


def test_mistakes_exit_non_zero_with_one_line(cli) -> None:
    cli("user", "add", "ana@example.com", "--password", PASSWORD)
    taken = cli("user", "add", "ANA@example.com", "--password", PASSWORD, check=False)
    assert one_line_error(taken) == "that email address is already registered"
    short = cli("user", "add", "bo@example.com", "--password", "short", check=False)
    assert one_line_error(short) == "the password must be 8 to 1024 characters long"
    assert one_line_error(cli("user", "add", "not-an-address", "--password", PASSWORD,
                              check=False)) == "'not-an-address' is not an email address"
    missing = cli("user", "disable", "nobody@example.com", check=False)
    assert one_line_error(missing) == "no user with the email address 'nobody@example.com'"


def test_passwd_stores_a_new_hash_and_never_prints_the_password(cli, cli_env) -> None:
    added = cli("user", "add", "ana@example.com", "--password", PASSWORD)
    changed = cli("user", "passwd", "ana@example.com", "--password", "a brand new secret")
    for result in (added, changed):
        assert PASSWORD not in result.stdout + result.stderr
        assert "a brand new secret" not in result.stdout + result.stderr

    async def check() -> None:
        async with services_of(cli_env) as services:
            async with services.database.read() as conn:
                user = await users.find_user_by_email(conn, "ana@example.com")
        assert user is not None
        assert await Passwords().verify(user.password_hash, "a brand new secret")
        assert not await Passwords().verify(user.password_hash, PASSWORD)

    anyio.run(check)


def test_password_is_asked_for_when_left_out(cli, cli_json) -> None:
    result = cli("user", "add", "ana@example.com", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert PASSWORD not in result.stdout
    assert cli_json("user", "list")[0]["email"] == "ana@example.com"
