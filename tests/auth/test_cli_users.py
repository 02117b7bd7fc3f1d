"""``vbis-geo users``: accounts, scopes and tokens from the command line, against the test
database; passwords only from a prompt or standard input."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from vbis_geo.cli import cli, users
from vbis_geo.errors import InvalidInput, NotFound

pytestmark = pytest.mark.db

PASSWORD = "Phong Nha - Kẻ Bàng 2003"


@pytest.fixture
def run(test_settings, engine):  # type: ignore[no-untyped-def]
    """Run ``vbis-geo ARGS`` on the test database; the accounts made are deleted after."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), obj=test_settings, input=input)

    yield invoke
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM auth.accounts WHERE username LIKE 'cli-%'"))


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def test_accounts_scopes_and_tokens(run, engine) -> None:  # type: ignore[no-untyped-def]
    out = ok(
        run(
            "users", "add", "CLI-Editor", "--role", "provincial_editor", "--name",
            "Sở NN&MT Hà Nội", "--email", "editor@example.vn", "--province", "VN-HN",
            "--password", input=PASSWORD + "\n",
        )
    )  # fmt: skip
    assert "account cli-editor created" in out and "scope: province VN-HN" in out
    assert PASSWORD not in out
    out = ok(run("users", "grant", "cli-editor", "--province", "VN-44", "--exact-locations"))
    assert "scope: province VN-44" in out and "scope: exact_locations" in out
    out = ok(run("users", "revoke", "cli-editor", "--province", "VN-44"))
    assert "VN-44" not in out
    out = ok(run("users", "show", "cli-editor"))
    assert "Sở NN&MT Hà Nội (provincial_editor, active)" in out and "password: set" in out
    assert "cli-editor" in ok(run("users", "list"))

    result = run("users", "token", "create", "cli-editor", "--name", "QGIS", "--days", "7")
    secret = ok(result).splitlines()[0]
    assert secret.startswith("vbis_") and len(secret) == 48
    assert "it is not shown again" in result.stderr
    listing = ok(run("users", "token", "list", "cli-editor"))
    assert secret[:11] in listing and secret not in listing and "active" in listing
    token_id = int(listing.split()[0])
    assert "revoked" in ok(run("users", "token", "revoke", str(token_id)))
    assert "revoked" in ok(run("users", "token", "list", "cli-editor"))

    ok(run("users", "set-password", "cli-editor", input="another long password\n"))
    out = ok(run("users", "deactivate", "cli-editor"))
    assert "deactivated" in out
    assert "(provincial_editor, deactivated)" in ok(run("users", "show", "cli-editor"))


def test_token_only_account(run) -> None:  # type: ignore[no-untyped-def]
    out = ok(run("users", "add", "cli-qgis", "--role", "expert", "--taxon", "Primates"))
    assert "password: none (token-only)" in out and "scope: taxon" in out


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["--role", "provincial_editor", "--province", "VN-99"], InvalidInput,
         "unknown province code 'VN-99'"),
        (["--role", "reserve_board", "--province", "VN-HN"], InvalidInput,
         "a province scope is not allowed for the role reserve_board"),
        (["--role", "provincial_editor"], InvalidInput, "needs at least one province"),
        (["--role", "expert", "--protected-area", "PA-NOWHERE"], InvalidInput,
         "unknown protected area code 'PA-NOWHERE'"),
    ],
)  # fmt: skip
def test_errors_name_the_problem(run, args, error, message) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "add", "cli-misfit", *args)
    assert isinstance(result.exception, error), result.output
    assert message in str(result.exception)


def test_unknown_accounts_and_tokens(run) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(run("users", "show", "cli-nobody").exception, NotFound)
    assert isinstance(run("users", "token", "revoke", "2147483647").exception, NotFound)
    assert isinstance(run("users", "token", "revoke", "99999999999").exception, NotFound)
    result = run("users", "token", "create", "cli-nobody", "--name", "x", "--days", "400")
    assert result.exit_code == 2 and "1<=x<=365" in result.output
    result = run("users", "grant", "cli-nobody")
    assert result.exit_code == 2 and "name at least one scope" in result.output


def test_a_short_password_is_refused_without_echo(run) -> None:  # type: ignore[no-untyped-def]
    result = run("users", "add", "cli-short", "--role", "expert", "--password", input="tiny\n")
    assert isinstance(result.exception, InvalidInput)
    assert "shorter than 12" in str(result.exception) and "tiny" not in str(result.exception)


def test_no_option_takes_a_password_on_the_command_line() -> None:
    def commands(group: click.Group):  # type: ignore[no-untyped-def]
        for command in group.commands.values():
            if isinstance(command, click.Group):
                yield from commands(command)
            else:
                yield command

    for command in commands(users):
        for param in command.params:
            if "password" in (param.name or ""):
                assert isinstance(param, click.Option) and param.is_flag, command.name


def test_the_command_prints_one_clear_line(test_settings) -> None:  # type: ignore[no-untyped-def]
    url = test_settings.database_url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "vbis_geo.cli", "users", "add", "cli-board", "--role",
         "reserve_board", "--province", "VN-HN"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "VBIS_DATABASE_URL": url},
    )  # fmt: skip
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: a province scope is not allowed for the role")
    assert "Traceback" not in result.stderr
