from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bots.settings import Settings, env_var_name
from storage.migrate import head_revision
from tests.cli.conftest import Collabbot

SCRIPT = Path(sys.executable).with_name("collabbot")
HEAD = head_revision()


def test_config_shows_the_settings_without_passwords() -> None:
    result = Collabbot("postgresql+asyncpg://owner:s3cret@db.internal/market").ok("config")

    assert "COLLABBOT_DATABASE_URL" in result.stdout
    assert "owner:***@db.internal/market" in result.stdout
    assert "s3cret" not in result.stdout
    assert "COLLABBOT_TIMEZONE" in result.stdout


def test_config_hides_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = [
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    ]
    if not secrets:
        pytest.skip("no setting holds a secret yet")
    for name in secrets:
        monkeypatch.setenv(env_var_name(name), "do-not-print-me")

    result = Collabbot("sqlite+aiosqlite:///./x.sqlite3").ok("config")

    assert "do-not-print-me" not in result.output
    assert env_var_name(secrets[0]) in result.stdout


def test_config_docs_print_the_settings_table() -> None:
    result = Collabbot("sqlite+aiosqlite:///./x.sqlite3").ok("config", "--docs")

    assert result.stdout.startswith("| environment variable | default | description |")


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["db"],
        ["db", "upgrade"],
        ["db", "current"],
        ["operator", "add"],
        ["seller", "add"],
        ["offer", "import"],
        ["orders", "export"],
        ["demo", "seed"],
        ["config"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = Collabbot("sqlite+aiosqlite:///./x.sqlite3").ok(*command, "--help")

    assert result.stdout.startswith("Usage: ")


@pytest.mark.skipif(not SCRIPT.exists(), reason="the collabbot console script is not installed")
def test_the_installed_console_script_runs(sqlite_url: str) -> None:
    upgrade = subprocess.run(
        [str(SCRIPT), "--database-url", sqlite_url, "db", "upgrade"],
        capture_output=True,
        text=True,
        check=False,
    )
    refused = subprocess.run(
        [str(SCRIPT), "--database-url", sqlite_url, "operator", "add", "fax:1"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert upgrade.returncode == 0, upgrade.stderr
    assert f"revision {HEAD}" in upgrade.stdout
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: 'fax:1': Unknown platform 'fax'")
    assert "Traceback" not in refused.stderr
