"""Configuration of a collabbot process.

Every setting comes from an environment variable named ``COLLABBOT_<FIELD>`` (for example
``COLLABBOT_DATABASE_URL``) or from a ``.env`` file in the working directory; real environment
variables win over the file. :func:`settings_table_markdown` renders the documentation table
from the field descriptions, so the descriptions below are what operators read.

Connection URLs stay plain strings because SQLAlchemy and redis take them as they are; their
passwords are replaced by ``***`` whenever the settings are printed (``repr``, ``str``, log
lines, validation errors). Tokens added later are declared as :class:`pydantic.SecretStr`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Settings",
    "env_var_name",
    "load_settings",
    "redact_url",
    "settings_table_markdown",
]

ENV_PREFIX = "COLLABBOT_"

_SQLITE = "sqlite+aiosqlite://"
_POSTGRES = "postgresql+asyncpg://"
# Spellings people copy from hosting dashboards, mapped onto the async drivers we ship.
_DATABASE_SCHEME_REWRITES = {
    "sqlite://": _SQLITE,
    "postgresql://": _POSTGRES,
    "postgres://": _POSTGRES,
}
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_GRAPH_VERSION = re.compile(r"v\d{1,3}\.\d{1,2}")
_TEMPLATE_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")


def redact_url(url: str) -> str:
    """Return ``url`` with the password replaced by ``***``; anything else is returned as is.

    >>> redact_url("redis://:hunter2@cache:6379/0")
    'redis://:***@cache:6379/0'
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        # Not a URL we can parse; better to hide all of it than to leak a secret.
        return "***"
    if not password:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    username = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{username}:***@{hostinfo}").geturl()


class Settings(BaseSettings):
    """Everything a collabbot process reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        # A shared .env file may also hold variables for other programs.
        extra="ignore",
        frozen=True,
        # Validation errors would otherwise echo the rejected value, password included.
        hide_input_in_errors=True,
    )

    database_url: str = Field(
        default=f"{_SQLITE}/./collabbot.sqlite3",
        description=(
            "Database to keep marketplace data in: `sqlite+aiosqlite:///path` or "
            "`postgresql+asyncpg://user:password@host/db` (`postgres://` and `sqlite://` "
            "are accepted and switched to the async driver)."
        ),
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis for conversation state, button tokens, duplicate detection and shared "
            "rate limits, e.g. `redis://host:6379/0`. Unset: kept in process memory, which "
            "suits a single process only."
        ),
    )
    log_level: str = Field(
        default="INFO",
        description="Least severe log level written: DEBUG, INFO, WARNING, ERROR or CRITICAL.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text` for people reading a terminal, `json` for log collectors.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA timezone in which dates and deadlines are shown to people.",
    )
    default_language: str = Field(
        default="en",
        description="Language for people whose chat client does not tell us theirs.",
    )
    content_deadline_days: int = Field(
        default=14,
        ge=1,
        description="Days after shipping by which a creator's video is due, for new offers.",
    )
    application_window_days: int = Field(
        default=14,
        ge=1,
        description="Days a new offer takes applications before it ends by itself.",
    )
    ranking_fairness_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Look-back window in days used when ranking applicants, so creators selected "
            "recently give way to others."
        ),
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="How long a SQLite writer waits for a lock held by another one, in ms.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="Connections kept open per process to PostgreSQL.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret (at least 16 characters) that signs button payloads; the same in every "
            "process. Unset: derived from the platform tokens, or random per process when "
            "there are none (buttons then stop working after a restart)."
        ),
    )
    telegram_token: SecretStr | None = Field(
        default=None,
        description="Telegram bot token from @BotFather. Unset: Telegram is off.",
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Bot API base URL: the public one, or a self-hosted Bot API server.",
    )
    telegram_driver: Literal["aiogram", "ptb"] = Field(
        default="aiogram",
        description="Telegram library: `aiogram` (aiogram 3) or `ptb` (python-telegram-bot).",
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        default="polling",
        description="`polling` (no public URL needed) or `webhook` (Telegram calls us).",
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        description=(
            "Public HTTPS URL Telegram posts updates to, ending in `/telegram/webhook`, "
            "for webhook mode."
        ),
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` with every webhook "
            "call (1-256 of A-Z a-z 0-9 _ -); requests without it are refused."
        ),
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None,
        description=(
            "Phone number ID of the WhatsApp Business number (Meta app → WhatsApp → API "
            "Setup), not the phone number itself."
        ),
    )
    whatsapp_token: SecretStr | None = Field(
        default=None,
        description=(
            "Permanent access token of a system user with `whatsapp_business_messaging`. "
            "Unset: WhatsApp is off."
        ),
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None,
        description=(
            "App secret of the Meta app; webhook calls whose `X-Hub-Signature-256` does not "
            "match it are refused. Required with WhatsApp."
        ),
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None,
        description=(
            "Any secret string you choose and also enter as the Verify token of the webhook "
            "in the Meta app (checked when Meta verifies `/whatsapp/webhook`). Required with "
            "WhatsApp."
        ),
    )
    whatsapp_api_url: str = Field(
        default="https://graph.facebook.com",
        description="Graph API base URL (changed only for tests or a proxy).",
    )
    whatsapp_api_version: str = Field(
        default="v21.0",
        description="Graph API version used in request paths, e.g. `v21.0`.",
    )
    whatsapp_template: str = Field(
        default="collabbot_notice",
        description=(
            "Name of the approved message template notices are sent with outside WhatsApp's "
            "24-hour window: a body with one parameter `{{1}}` and one quick-reply button."
        ),
    )
    whatsapp_template_languages: str = Field(
        default="en",
        description=(
            "Comma-separated languages the template is approved in, e.g. `en,zh_CN`; a "
            "notice uses the member's language when listed, else the first."
        ),
    )
    http_listen: str = Field(
        default="127.0.0.1:8080",
        description=(
            "host:port of the HTTP endpoint that serves platform webhooks and health checks "
            "(use 0.0.0.0:8080 in a container)."
        ),
    )
    dispatch_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the notice dispatcher looks for due notices when idle.",
    )

    @field_validator("http_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{ENV_PREFIX}HTTP_LISTEN must be host:port, e.g. 127.0.0.1:8080")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _use_async_driver(cls, url: str) -> str:
        url = url.strip()
        for scheme, replacement in _DATABASE_SCHEME_REWRITES.items():
            if url.startswith(scheme):
                return replacement + url.removeprefix(scheme)
        if url.startswith((_SQLITE, _POSTGRES)):
            return url
        # Name only the scheme: the rest of a rejected URL may hold a password.
        found = f"not {url.partition('://')[0]}://" if "://" in url else "it has no scheme"
        raise ValueError(
            f"{ENV_PREFIX}DATABASE_URL must start with {_SQLITE} or {_POSTGRES} ({found}); "
            f"for example {_SQLITE}/./collabbot.sqlite3 or "
            f"{_POSTGRES}collabbot:password@db.example.com/collabbot"
        )

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            # `COLLABBOT_REDIS_URL=` in a .env file means "no Redis".
            return None
        url = url.strip()
        if not url.startswith(_REDIS_SCHEMES):
            raise ValueError(
                f"{ENV_PREFIX}REDIS_URL must start with one of {', '.join(_REDIS_SCHEMES)}; "
                "for example redis://localhost:6379/0 (leave it unset to run without Redis)"
            )
        return url

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, level: str) -> str:
        level = level.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"{ENV_PREFIX}LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, name: str) -> str:
        name = name.strip()
        if name == "UTC":
            # Always valid, even on slim images without a timezone database.
            return name
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{ENV_PREFIX}TIMEZONE {name!r} is not a known IANA timezone; use a name such "
                "as Europe/Berlin or America/New_York (if the name is right, install tzdata)"
            ) from None
        return name

    @field_validator("default_language")
    @classmethod
    def _check_language(cls, code: str) -> str:
        code = code.strip()
        if not _LANGUAGE_CODE.fullmatch(code):
            raise ValueError(
                f"{ENV_PREFIX}DEFAULT_LANGUAGE must be a language code such as en, de or pt-BR"
            )
        return code

    @field_validator("whatsapp_phone_number_id")
    @classmethod
    def _check_phone_number_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().isdigit():
            raise ValueError(
                f"{ENV_PREFIX}WHATSAPP_PHONE_NUMBER_ID is the numeric Phone number ID from the "
                "Meta app's API Setup page, not the phone number"
            )
        return value.strip()

    @field_validator("whatsapp_api_version")
    @classmethod
    def _check_api_version(cls, value: str) -> str:
        value = value.strip()
        if not _GRAPH_VERSION.fullmatch(value):
            raise ValueError(f"{ENV_PREFIX}WHATSAPP_API_VERSION must look like v21.0")
        return value

    @field_validator("whatsapp_template_languages")
    @classmethod
    def _check_template_languages(cls, value: str) -> str:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        if not codes or not all(_TEMPLATE_LANGUAGE.fullmatch(code) for code in codes):
            raise ValueError(
                f"{ENV_PREFIX}WHATSAPP_TEMPLATE_LANGUAGES must list template language codes "
                "such as en or en,zh_CN"
            )
        return ",".join(codes)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Feeds repr() and str(); keeps passwords in connection URLs out of log lines.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if isinstance(value, str) else value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and ``.env``; keyword arguments win over both."""
    return Settings(**overrides)


def env_var_name(field_name: str) -> str:
    """The environment variable that sets the field ``field_name``."""
    return f"{ENV_PREFIX}{field_name.upper()}"


def _describe_default(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True)
    if default is None:
        return "*(unset)*"
    if isinstance(default, SecretStr):
        return "*(secret)*"
    if isinstance(default, str):
        return f"`{redact_url(default)}`"
    return f"`{default}`"


def settings_table_markdown() -> str:
    """A Markdown table of every setting: environment variable, default and description."""
    lines = [
        "| environment variable | default | description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{env_var_name(name)}` | {_describe_default(field)} | {description} |")
    return "\n".join(lines) + "\n"
