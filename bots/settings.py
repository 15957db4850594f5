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
import textwrap
import zoneinfo
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Settings",
    "env_example",
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
        description=(
            "Database connections kept open per process; also how many chat updates a "
            "process answers at once (the others wait their turn)."
        ),
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
    discord_token: SecretStr | None = Field(
        default=None,
        description=(
            "Discord bot token (Developer Portal → your application → Bot → Reset Token). "
            "Unset: Discord is off."
        ),
    )
    discord_guild_id: int | None = Field(
        default=None,
        description=(
            "Id of one Discord server to register the slash commands in instead of "
            "globally: they appear at once, but only in that server (for trying the bot "
            "out). Unset: registered globally, for every server and DMs."
        ),
    )
    discord_api_url: str | None = Field(
        default=None,
        description=(
            "Discord API base URL, e.g. `http://127.0.0.1:8999/api/v10` for a test server; "
            "the gateway is then the one its `GET /gateway/bot` names. Unset: "
            "`https://discord.com/api/v10`."
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
            "host:port of the HTTP endpoint that serves platform webhooks, health checks, "
            "metrics and the integration API (use 0.0.0.0:8080 in a container)."
        ),
    )
    web_playground: bool = Field(
        default=False,
        description=(
            "Serve the web playground at `/` on the HTTP endpoint: a chat page where you act "
            "as the demo people (`web:demo-…` accounts only) with notices arriving live. "
            "`collabbot run --demo` switches it on. Nobody signs in to it, so keep "
            "`COLLABBOT_HTTP_LISTEN` on 127.0.0.1 while it is on."
        ),
    )
    api_tokens: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer tokens of the integration API (`/api/v1`), as comma-separated "
            "`name:token` pairs, e.g. `portal:<32 random characters>`; each token at least "
            "16 characters, and the name (letters, digits, `.` `_` `-`) shows in logs. Every "
            "client acts as the marketplace itself, with an operator's rights. Unset: the API "
            "refuses every call."
        ),
    )
    shutdown_grace_seconds: float = Field(
        default=20.0,
        gt=0,
        description=(
            "Seconds a stopping process (SIGTERM, Ctrl-C) gives the work in flight (updates "
            "being answered, notices being sent, scheduled jobs) to finish once it has stopped "
            "taking new work; then it exits anyway. Keep it below the time your platform waits "
            "before killing (Kubernetes' terminationGracePeriodSeconds, compose's "
            "stop_grace_period)."
        ),
    )
    dispatch_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the notice dispatcher looks for due notices when idle.",
    )
    dispatch_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long a notice dispatcher keeps the notices it claimed: if its process dies, "
            "another takes them over after this (the few being sent may arrive twice). Must "
            "cover sending a batch of 50 at the platform's rate."
        ),
    )
    scheduler_enabled: bool = Field(
        default=True,
        description=(
            "Run the scheduler in this process: offer deadlines, video reminders, "
            "auto-selection and new-offer pushes. Several processes may have it on; one "
            "leads (a PostgreSQL advisory lock, else a Redis key) and the others wait as "
            "standby and take over when it stops."
        ),
    )
    scheduler_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How often the scheduler ends offers past their application deadline and marks "
            "videos overdue / queues due reminders."
        ),
    )
    scheduler_leader_check_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "How often the leading scheduler re-checks its lock and a standby tries to take "
            "over; a dead leader is replaced within about this time (three times this with "
            "the Redis lock)."
        ),
    )
    reminder_interval_days: int = Field(
        default=3,
        ge=1,
        description=(
            "Days between reminders for an overdue video; the first goes out at the content "
            "deadline."
        ),
    )
    reminders_total: int = Field(
        default=4,
        ge=1,
        description="Reminders per overdue video, the deadline's one included; the last is final.",
    )
    auto_selection_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often `auto` offers select their best-ranked applicants.",
    )
    offer_push_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "How often creators are told about live offers that are short of applicants "
            '("a new offer for you").'
        ),
    )
    offer_push_daily_cap: int = Field(
        default=3,
        ge=0,
        description=(
            "New-offer pushes a creator gets at most in any 24 hours (0: none). Creators who "
            "opted out of announcements get none."
        ),
    )
    offer_push_after_hours: int = Field(
        default=24,
        ge=0,
        description=(
            "Hours an offer is live before creators are pushed to it, if it has fewer than "
            "two applicants per sample by then."
        ),
    )
    digest_window_seconds: int = Field(
        default=300,
        ge=0,
        description=(
            "How long new-application notices are held so a seller gets them together as "
            "one digest."
        ),
    )

    @field_validator("http_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{ENV_PREFIX}HTTP_LISTEN must be host:port, e.g. 127.0.0.1:8080")
        return value.strip()

    @field_validator("api_tokens")
    @classmethod
    def _blank_api_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        # Read by parse_api_tokens when the HTTP app starts, which says what is wrong.
        if value is None or not value.get_secret_value().strip():
            return None
        return value

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


_API_CLIENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_API_TOKEN = re.compile(r"[!-+\--~]{16,512}")  # printable ASCII but space and comma


class InvalidApiTokens(ValueError):
    """``COLLABBOT_API_TOKENS`` is not a list of ``name:token`` pairs."""


def parse_api_tokens(value: str) -> dict[str, str]:
    """``name:token,name2:token2`` → ``{name: token}``; the error never quotes a token."""
    clients: dict[str, str] = {}
    for index, pair in enumerate(value.split(","), start=1):
        name, sep, token = pair.strip().partition(":")
        if not sep or not _API_CLIENT_NAME.fullmatch(name) or not _API_TOKEN.fullmatch(token):
            raise InvalidApiTokens(
                f"{ENV_PREFIX}API_TOKENS entry {index} must be name:token, the name of letters, "
                "digits, . _ or - and the token of at least 16 printable characters (no spaces "
                "or commas)"
            )
        if name in clients or token in clients.values():
            raise InvalidApiTokens(
                f"{ENV_PREFIX}API_TOKENS entry {index} repeats a name or a token"
            )
        clients[name] = token
    return clients


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


def _example_value(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True)
    if default is None or isinstance(default, SecretStr):
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def env_example() -> str:
    """The text of ``deploy/.env.example``: every setting with its description, commented
    out at its default, so a copy changes nothing until a line is uncommented."""
    lines = [
        "# Every collabbot setting, at its default. Copy this file to .env, uncomment and set",
        "# what you need; a setting left commented out keeps its default.",
        "# Generated from bots/settings.py; after changing a setting there, run:",
        "#   python -c 'from bots.settings import env_example; print(env_example(), end=\"\")' \\",
        "#     > deploy/.env.example",
    ]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("`", "")
        lines.append("")
        lines.extend(f"# {line}" for line in textwrap.wrap(description, 96))
        lines.append(f"# {env_var_name(name)}={_example_value(field)}")
    return "\n".join(lines) + "\n"
