"""``linkarchive user …``: add, list, disable, enable, and set passwords of accounts."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from linkarchive.commands.common import (
    JsonOption,
    fail,
    find_user,
    print_json,
    print_table,
    run_with_services,
    when,
)
from linkarchive.http.passwords import Passwords
from linkarchive.http.routes.auth import EMAIL_PATTERN, MAX_PASSWORD, MIN_PASSWORD
from linkarchive.services import Services
from linkarchive.storage.repositories import users as users_repo
from linkarchive.storage.repositories.auth import revoke_user_sessions
from linkarchive.storage.repositories.rows import User

__all__ = ["app"]

app = typer.Typer(help="Manage accounts.", no_args_is_help=True,
                  rich_markup_mode="markdown")

EmailArgument = Annotated[str, typer.Argument(help="The account's email address (or id).",
                                              show_default=False)]
PasswordOption = Annotated[str, typer.Option(
    prompt=True, hide_input=True, confirmation_prompt=True,
    help=f"The new password, {MIN_PASSWORD}+ characters; asked for when left out.")]


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "admin": user.is_admin,
            "disabled": user.disabled, "created_at": user.created_at}


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        fail(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


def _print_user(user: User, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(_user_json(user))
    else:
        typer.echo(f"{verb} user {user.id} <{user.email}>"
                   + (" (admin)" if user.is_admin else "")
                   + (" (disabled)" if user.disabled else ""))


@app.command("add")
def add(email: Annotated[str, typer.Argument(help="Email address to sign in with.",
                                             show_default=False)],
        password: PasswordOption,
        admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
        as_json: JsonOption = False) -> None:
    """Create an account.

    Example: linkarchive user add ana@example.com --password 'correct horse' --admin
    """
    if not re.fullmatch(EMAIL_PATTERN, email.strip()):
        fail(f"{email!r} is not an email address")
    _check_password(password)

    async def work(services: Services) -> User:
        hashed = await Passwords().hash(password)
        async with services.database.write() as tx:
            return await users_repo.create_user(tx, email, hashed, is_admin=admin)

    _print_user(run_with_services(work), "added", as_json)


@app.command("list")
def list_(limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 1000,
          as_json: JsonOption = False) -> None:
    """List accounts in the order they were created.

    Example: linkarchive user list --json
    """
    async def work(services: Services) -> list[User]:
        async with services.database.read() as conn:
            return await users_repo.list_users(conn, limit=limit)

    users = run_with_services(work)
    if as_json:
        print_json([_user_json(user) for user in users])
        return
    print_table(("ID", "EMAIL", "ADMIN", "DISABLED", "CREATED"),
                [(u.id, u.email, "yes" if u.is_admin else "no", "yes" if u.disabled else "no",
                  when(u.created_at)) for u in users])


def _set_disabled(email: str, disabled: bool, as_json: bool) -> None:
    async def work(services: Services) -> User:
        async with services.database.write() as tx:
            user = await find_user(tx, email)
            return await users_repo.set_user_disabled(tx, user.id, disabled)

    _print_user(run_with_services(work), "disabled" if disabled else "enabled", as_json)


@app.command()
def disable(email: EmailArgument, as_json: JsonOption = False) -> None:
    """Disable an account and end its sessions; its links stay.

    Example: linkarchive user disable ana@example.com
    """
    _set_disabled(email, True, as_json)


@app.command()
def enable(email: EmailArgument, as_json: JsonOption = False) -> None:
    """Enable a disabled account again.

    Example: linkarchive user enable ana@example.com
    """
    _set_disabled(email, False, as_json)


@app.command()
def passwd(email: EmailArgument, password: PasswordOption,
           as_json: JsonOption = False) -> None:
    """Set an account's password; its sessions end, so every device signs in again.

    Example: linkarchive user passwd ana@example.com
    """
    _check_password(password)

    async def work(services: Services) -> User:
        hashed = await Passwords().hash(password)
        async with services.database.write() as tx:
            user = await find_user(tx, email)
            changed = await users_repo.set_user_password(tx, user.id, hashed)
            await revoke_user_sessions(tx, user.id, reason="password changed")
            return changed

    _print_user(run_with_services(work), "changed the password of", as_json)
