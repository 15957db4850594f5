"""Fixtures for the command-line tests: a runner bound to a test database, and a look inside."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner, Result

from bots.bootstrap import Runtime, open_marketplace
from bots.cli import cli
from bots.settings import load_settings

T = TypeVar("T")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COLLABBOT_ variable and no .env file of the machine running the tests leak in."""
    for name in list(os.environ):
        if name.startswith("COLLABBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@dataclass
class Collabbot:
    """Runs ``collabbot --database-url URL …`` in-process and peeks into that database."""

    url: str

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--database-url", self.url, *args])

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def inspect(self, look: Callable[[Runtime], Awaitable[T]]) -> T:
        async def run() -> T:
            runtime = await open_marketplace(load_settings(database_url=self.url))
            async with runtime:
                return await look(runtime)

        return asyncio.run(run())


@pytest.fixture
def collabbot(sqlite_url: str) -> Collabbot:
    """The command line on an empty SQLite database of this test's own."""
    return Collabbot(sqlite_url)


@pytest.fixture
def migrated(collabbot: Collabbot) -> Collabbot:
    """The command line on a SQLite database with the schema made."""
    collabbot.ok("db", "upgrade")
    return collabbot


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding the demo marketplace, shared by a module's read-only tests."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo')}/demo.sqlite3"
    for args in (("db", "upgrade"), ("demo", "seed")):
        result = CliRunner().invoke(cli, ["--database-url", url, *args])
        assert result.exit_code == 0, result.output
    return url


def assert_clean_failure(result: Result, *expected: str) -> None:
    """Exit status 1, ``error: …`` on stderr with every ``expected`` text, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    for text in expected:
        assert text in result.stderr, result.stderr
