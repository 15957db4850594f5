"""``collabbot run --demo``: the schema and the demo data made ready, the playground on.

:func:`prepare_demo` creates or upgrades the schema and seeds the demo marketplace when it is
not there yet — but never into a database that already holds other people, so pointing
``--demo`` at a real database by mistake adds nothing to it. :func:`demo_settings` switches
the playground on and makes the demo lively: new-application notices are held for a few
seconds instead of minutes, unless ``COLLABBOT_DIGEST_WINDOW_SECONDS`` says otherwise.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Final

from pydantic import SecretStr
from sqlalchemy import func, select

from bots.bootstrap import DatabaseNotReady, open_marketplace, schema_status
from bots.demo import OPERATOR, STORY_DAYS, seed_demo
from bots.settings import Settings, redact_url
from core.ports.clock import FixedClock, SystemClock
from core.services import find_member, parse_identity
from storage.migrate import current_revision, upgrade
from storage.models import MemberRow

DEMO_DIGEST_WINDOW_SECONDS: Final = 5


class NotADemoDatabase(DatabaseNotReady):
    """The database holds people of its own; the demo is not mixed into it."""


def demo_settings(settings: Settings) -> Settings:
    """``settings`` with the playground on, tuned for trying collabbot out."""
    changes: dict[str, object] = {"web_playground": True}
    if "digest_window_seconds" not in settings.model_fields_set:
        changes["digest_window_seconds"] = DEMO_DIGEST_WINDOW_SECONDS
    tokens = (settings.telegram_token, settings.whatsapp_token, settings.discord_token)
    if settings.secret_key is None and all(token is None for token in tokens):
        # The playground's chats live in memory, so buttons signed with a key of this run
        # only lose nothing; saying so at every start would only worry a newcomer.
        changes["secret_key"] = SecretStr(secrets.token_urlsafe(32))
    return settings.model_copy(update=changes)


def playground_url(settings: Settings) -> str:
    """Where a browser on this machine finds the playground."""
    host, _, port = settings.http_listen.rpartition(":")
    if host in ("0.0.0.0", "", "*"):  # noqa: S104 — naming the wildcard, not binding to it
        host = "127.0.0.1"
    elif host == "::" or host == "[::]":
        host = "[::1]"
    return f"http://{host}:{port}/"


async def prepare_demo(settings: Settings) -> list[str]:
    """Make the database ready for the demo; returns what was done, for the terminal."""
    url = settings.database_url
    done: list[str] = []
    before = await schema_status(url)
    if not before.up_to_date:
        await upgrade(url)
        revision = await current_revision(url)
        verb = "Created" if before.current is None else "Upgraded"
        done.append(f"{verb} the database schema at {redact_url(url)} (revision {revision}).")
    now = SystemClock().now()
    clock = FixedClock(now - timedelta(days=STORY_DAYS))
    async with await open_marketplace(settings, clock=clock) as runtime:
        if await find_member(runtime.marketplace, *parse_identity(OPERATOR)) is not None:
            done.append("The demo data is already there.")
            return done
        async with runtime.database.unit_of_work() as uow:
            people = await uow.session.execute(select(func.count()).select_from(MemberRow))
            members = int(people.scalar_one())
        if members:
            raise NotADemoDatabase(
                f"The database at {redact_url(url)} already holds people but not the demo, so "
                "--demo leaves it alone (the demo's people are fictional). Use a database of "
                "its own, e.g. collabbot --database-url sqlite+aiosqlite:///./demo.sqlite3 "
                "run --demo"
            )
        seeded = await seed_demo(runtime.marketplace, clock)
    done.append(
        f"Seeded the demo marketplace: {seeded.sellers} sellers, {seeded.creators} creators, "
        f"{seeded.offers} offers, {sum(seeded.orders.values())} orders."
    )
    return done
