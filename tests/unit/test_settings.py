from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bots.settings import (
    Settings,
    env_var_name,
    load_settings,
    redact_url,
    settings_table_markdown,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COLLABBOT_ variable and no .env file of the machine running the tests leak in."""
    for name in list(os.environ):
        if name.startswith("COLLABBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_run_on_a_local_sqlite_file_without_redis() -> None:
    settings = load_settings()

    assert settings.database_url == "sqlite+aiosqlite:///./collabbot.sqlite3"
    assert settings.redis_url is None
    assert settings.log_level == "INFO"
    assert settings.log_format == "text"
    assert settings.timezone == "UTC"
    assert settings.default_language == "en"
    assert settings.content_deadline_days == 14
    assert settings.application_window_days == 14
    assert settings.ranking_fairness_days == 30
    assert settings.sqlite_busy_timeout_ms == 5000
    assert settings.db_pool_size == 10


def test_settings_are_read_from_prefixed_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLLABBOT_LOG_LEVEL", "debug")
    monkeypatch.setenv("COLLABBOT_LOG_FORMAT", "json")
    monkeypatch.setenv("COLLABBOT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("COLLABBOT_CONTENT_DEADLINE_DAYS", "21")
    monkeypatch.setenv("COLLABBOT_REDIS_URL", "redis://cache:6379/0")

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.timezone == "Europe/Berlin"
    assert settings.content_deadline_days == 21
    assert settings.redis_url == "redis://cache:6379/0"


def test_unprefixed_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://elsewhere/db")

    settings = load_settings()

    assert settings.log_level == "INFO"
    assert settings.database_url.startswith("sqlite+aiosqlite://")


def test_dotenv_file_is_read_and_environment_wins_over_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "COLLABBOT_LOG_LEVEL=WARNING\nCOLLABBOT_DB_POOL_SIZE=3\nOTHER_PROGRAM_TOKEN=x\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("COLLABBOT_DB_POOL_SIZE", "7")

    settings = load_settings()

    assert settings.log_level == "WARNING"
    assert settings.db_pool_size == 7


def test_empty_redis_url_means_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABBOT_REDIS_URL", "")

    assert load_settings().redis_url is None


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABBOT_APPLICATION_WINDOW_DAYS", "5")

    assert load_settings(application_window_days=9).application_window_days == 9


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://bot@db:5432/collabbot", "postgresql+asyncpg://bot@db:5432/collabbot"),
        ("postgres://bot@db/collabbot", "postgresql+asyncpg://bot@db/collabbot"),
        ("postgresql+asyncpg://bot@db/collabbot", "postgresql+asyncpg://bot@db/collabbot"),
        ("sqlite:///./data.sqlite3", "sqlite+aiosqlite:///./data.sqlite3"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+aiosqlite:////var/lib/bot.db", "sqlite+aiosqlite:////var/lib/bot.db"),
    ],
)
def test_database_url_is_switched_to_the_async_driver(given: str, used: str) -> None:
    assert load_settings(database_url=given).database_url == used


@pytest.mark.parametrize(
    "url",
    [
        "mysql://bot:hunter2@db/collabbot",
        "postgresql+psycopg://bot:hunter2@db/collabbot",
        "bot:hunter2@db/collabbot",
        "",
    ],
)
def test_unsupported_database_url_is_refused_with_an_example(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        load_settings(database_url=url)

    message = str(refused.value)
    assert "COLLABBOT_DATABASE_URL must start with sqlite+aiosqlite:// or" in message
    assert "postgresql+asyncpg://" in message
    assert "hunter2" not in message


def test_unsupported_database_url_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLLABBOT_DATABASE_URL", "oracle://db/collabbot")

    with pytest.raises(ValidationError, match=r"not oracle://"):
        load_settings()


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("redis_url", "http://cache:6379", "COLLABBOT_REDIS_URL must start with"),
        ("log_level", "chatty", "COLLABBOT_LOG_LEVEL must be one of"),
        ("log_format", "xml", "log_format"),
        ("timezone", "Mars/Olympus_Mons", "not a known IANA timezone"),
        ("default_language", "English", "language code such as en"),
        ("content_deadline_days", 0, "greater than or equal to 1"),
        ("db_pool_size", 0, "greater than or equal to 1"),
    ],
)
def test_bad_values_are_refused_with_what_to_use_instead(
    field: str, value: object, hint: str
) -> None:
    with pytest.raises(ValidationError, match=hint):
        load_settings(**{field: value})


def test_redis_password_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABBOT_REDIS_URL", "redis://:hunter2@host/0")

    settings = load_settings()

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert "redis://:***@host/0" in repr(settings)
    assert settings.redis_url == "redis://:hunter2@host/0"


def test_database_password_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABBOT_DATABASE_URL", "postgres://bot:hunter2@db/collabbot")

    settings = load_settings()

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in f"{settings}"
    assert settings.database_url == "postgresql+asyncpg://bot:hunter2@db/collabbot"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@host/0", "redis://:***@host/0"),
        ("rediss://bot:hunter2@host:6380/1", "rediss://bot:***@host:6380/1"),
        ("postgresql+asyncpg://bot:p@ss@db/x", "postgresql+asyncpg://bot:***@db/x"),
        ("postgresql+asyncpg://bot@db/x", "postgresql+asyncpg://bot@db/x"),
        ("sqlite+aiosqlite:///./collabbot.sqlite3", "sqlite+aiosqlite:///./collabbot.sqlite3"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url_hides_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_settings_cannot_be_changed_after_loading() -> None:
    settings = load_settings()

    with pytest.raises(ValidationError):
        settings.log_level = "DEBUG"


def test_settings_table_documents_every_field() -> None:
    table = settings_table_markdown()
    rows = table.splitlines()

    assert rows[0] == "| environment variable | default | description |"
    assert len(rows) == 2 + len(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`{env_var_name(name)}`" in table
    assert "| `COLLABBOT_REDIS_URL` | *(unset)* |" in table
    assert "| `COLLABBOT_CONTENT_DEADLINE_DAYS` | `14` |" in table


def test_a_started_process_takes_its_startup_heap_out_of_garbage_collection() -> None:
    import gc

    from bots.event_loop import settle_heap

    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
