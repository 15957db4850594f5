"""The ``collabbot`` command line: the database, operators, sellers, offers, exports, demo.

Every command acts as the system (:meth:`Actor.system`) through the same use cases as the
chats. A refusal or bad input prints ``error: …`` to stderr and exits with status 1.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bots import lookups
from bots.bootstrap import (
    DatabaseNotReady,
    Runtime,
    database_problem,
    open_marketplace,
    schema_status,
)
from bots.demo import (
    DEMO_LOGINS,
    STORY_DAYS,
    DemoAlreadyThere,
    DemoIncomplete,
    DemoSummary,
    seed_demo,
)
from bots.lookups import clean_seller_name
from bots.offer_file import ImportRejected, OfferFileUnreadable, read_offer_file
from bots.offer_import import ImportedOffer, import_offers, parse_rows
from bots.orders_export import (
    BadMoment,
    ExportNotWritten,
    parse_moment,
    write_orders_csv,
    write_orders_file,
)
from bots.settings import Settings, env_var_name, load_settings, settings_table_markdown
from core.domain.errors import DomainError
from core.domain.orders import OrderState
from core.ports.clock import Clock, FixedClock, SystemClock
from core.ports.repositories import OrderQuery
from core.services import Actor, add_operator, add_seller, find_member, parse_identity
from storage.migrate import current_revision, upgrade

T = TypeVar("T")

SYSTEM = Actor.system()


@dataclass(frozen=True, slots=True)
class _Options:
    """What the global options say; settings are read only when a command needs them."""

    database_url: str | None
    debug: bool

    def settings(self) -> Settings:
        overrides = {"database_url": self.database_url} if self.database_url else {}
        try:
            return load_settings(**overrides)
        except ValidationError as error:
            _fail("the settings are not valid:", [_setting_problem(e) for e in error.errors()])


def _setting_problem(error: Any) -> str:
    field = str(error["loc"][0]) if error.get("loc") else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    variable = env_var_name(field) if field else ""
    return message if message.startswith(variable) else f"{variable}: {message}"


def _fail(message: str, details: Sequence[str] = ()) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    for line in details:
        click.echo(f"  {line}", err=True)
    raise click.exceptions.Exit(1)


def _run(options: _Options, work: Coroutine[Any, Any, T], settings: Settings) -> T:
    """Run ``work`` and turn every failure a person can act on into ``error: …``."""
    try:
        return asyncio.run(work)
    except DomainError as error:
        _fail(error.message)
    except (DatabaseNotReady, OfferFileUnreadable, ExportNotWritten, DemoIncomplete) as error:
        _fail(str(error))
    except ImportRejected as error:
        _fail(str(error), [str(problem) for problem in error.problems])
    except BrokenPipeError:
        # The reader went away (``| head``); click ends quietly on this.
        raise
    except (SQLAlchemyError, OSError) as error:
        if options.debug:
            raise
        _fail(database_problem(settings.database_url, error))
    except Exception as error:
        if options.debug:
            raise
        _fail(
            f"something unexpected went wrong ({type(error).__name__}: {error}). "
            "Run the command again with --debug to see where."
        )


def _with_marketplace(
    options: _Options,
    work: Callable[[Runtime], Awaitable[T]],
    *,
    clock: Clock | None = None,
) -> T:
    """Open the marketplace (after checking the database), run ``work``, close it."""
    settings = options.settings()

    async def main() -> T:
        async with await open_marketplace(settings, clock=clock) as runtime:
            return await work(runtime)

    return _run(options, main(), settings)


def _identity(text: str) -> str:
    """Check ``PLATFORM:USER_ID`` before anything is opened; returns it as given."""
    try:
        parse_identity(text)
    except DomainError as error:
        _fail(f"{text!r}: {error.message}")
    return text


pass_options = click.make_pass_decorator(_Options)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Settings come from COLLABBOT_* environment variables or a .env file; "
    "see: collabbot config",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="Database to use instead of COLLABBOT_DATABASE_URL, e.g. "
    "sqlite+aiosqlite:///./collabbot.sqlite3 or postgresql+asyncpg://user@host/db.",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of unexpected failures.")
@click.version_option(package_name="collabbot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, debug: bool) -> None:
    """Run the collabbot marketplace from the command line."""
    ctx.obj = _Options(database_url, debug)


# --- db -----------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command("upgrade")
@pass_options
def db_upgrade(options: _Options) -> None:
    """Create the schema, or bring it up to the newest revision. Safe to run again."""
    settings = options.settings()

    async def work() -> tuple[str | None, str | None]:
        before = await schema_status(settings.database_url)
        await upgrade(settings.database_url)
        return before.current, await current_revision(settings.database_url)

    before, after = _run(options, work(), settings)
    if before == after:
        click.echo(f"The database schema is already at revision {after} (the newest).")
    elif before is None:
        click.echo(f"Created the database schema at revision {after} (the newest).")
    else:
        click.echo(f"Upgraded the database schema from revision {before} to {after}.")


@db.command("current")
@click.option("--check", is_flag=True, help="Exit with status 1 unless the schema is the newest.")
@pass_options
def db_current(options: _Options, check: bool) -> None:
    """Show which schema revision the database is at."""
    settings = options.settings()
    status = _run(options, schema_status(settings.database_url), settings)
    click.echo(status.advice)
    if check and not status.up_to_date:
        raise click.exceptions.Exit(1)


# --- people -------------------------------------------------------------------------------


@cli.group()
def operator() -> None:
    """Manage the marketplace team's operators."""


@operator.command("add")
@click.argument("identity", metavar="PLATFORM:USER_ID")
@pass_options
def operator_add(options: _Options, identity: str) -> None:
    """Make the person behind a chat account an operator.

    PLATFORM is telegram, discord, whatsapp or web, e.g. telegram:123456. The account does
    not have to have written to the bot yet.
    """
    _identity(identity)

    async def work(runtime: Runtime) -> int | None:
        member = await add_operator(runtime.marketplace, SYSTEM, identity)
        return member.id

    member_id = _with_marketplace(options, work)
    click.echo(f"{identity} is an operator (member {member_id}).")


@cli.group()
def seller() -> None:
    """Manage sellers (brands and shops) and their staff."""


@seller.command("add")
@click.argument("name")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="PLATFORM:USER_ID",
    help="A chat account of the seller's staff, e.g. telegram:123456. Repeat for more.",
)
@pass_options
def seller_add(options: _Options, name: str, members: tuple[str, ...]) -> None:
    """Add a seller called NAME, with the given chat accounts as its staff."""
    for identity in members:
        _identity(identity)

    async def work(runtime: Runtime) -> tuple[int | None, list[tuple[str, int | None]]]:
        mp = runtime.marketplace
        added = await add_seller(mp, SYSTEM, name, members)
        staff = []
        for identity in dict.fromkeys(members):
            member = await find_member(mp, *parse_identity(identity))
            staff.append((identity, member.id if member else None))
        return added.id, staff

    added_id, staff = _with_marketplace(options, work)
    shown = clean_seller_name(name)
    if not staff:
        click.echo(f"Added seller {shown!r} (id {added_id}) with no staff yet.")
        return
    click.echo(f"Added seller {shown!r} (id {added_id}) with {len(staff)} staff:")
    for identity, member_id in staff:
        click.echo(f"  {identity} (member {member_id})")


# --- offers -------------------------------------------------------------------------------


@cli.group()
def offer() -> None:
    """Manage offers."""


@offer.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seller", "seller_name", required=True, metavar="NAME", help="The seller's name.")
@click.option(
    "--publish",
    is_flag=True,
    help="Publish the offers at once (a row's own publish column wins). Default: drafts.",
)
@pass_options
def offer_import(options: _Options, file: Path, seller_name: str, publish: bool) -> None:
    """Add a seller's offers from a JSON or CSV FILE.

    The file is checked first and every problem is listed with its line (CSV) or index
    (JSON); if there is any, nothing is imported. The format is described in
    docs/offer-import.md.
    """
    settings = options.settings()
    source = file.name
    try:
        rows = read_offer_file(file)
        checked = parse_rows(
            source,
            rows,
            now=SystemClock().now(),
            timezone=settings.timezone,
            content_deadline_days=settings.content_deadline_days,
            publish=publish,
        )
    except OfferFileUnreadable as error:
        _fail(str(error))
    except ImportRejected as error:
        _fail(str(error), [str(problem) for problem in error.problems])

    async def work(runtime: Runtime) -> list[ImportedOffer]:
        return await import_offers(runtime.marketplace, SYSTEM, seller_name, source, checked)

    imported = _with_marketplace(options, work)
    live = sum(1 for item in imported if item.offer.state.value == "live")
    click.echo(
        f"Imported {len(imported)} offer{'s' if len(imported) != 1 else ''} for "
        f"{clean_seller_name(seller_name)!r} ({live} live, {len(imported) - live} draft):"
    )
    for item in imported:
        click.echo(f"  offer {item.offer.id} [{item.offer.state.value}] {item.title}")


# --- orders -------------------------------------------------------------------------------


@cli.group()
def orders() -> None:
    """Orders: exports for review."""


@orders.command("export")
@click.option("--since", metavar="DATE", help="Orders applied on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Orders applied on or before DATE (YYYY-MM-DD).")
@click.option("--offer", "offer_id", type=click.IntRange(min=1), metavar="ID", help="One offer.")
@click.option("--seller", "seller_name", metavar="NAME", help="One seller's orders.")
@click.option(
    "--creator",
    metavar="PLATFORM:USER_ID|MEMBER_ID",
    help="One creator's orders, by chat account (telegram:123456) or member id.",
)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([state.value for state in OrderState], case_sensitive=False),
    help="Only orders in this state. Repeat for several.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_options
def orders_export(
    options: _Options,
    since: str | None,
    until: str | None,
    offer_id: int | None,
    seller_name: str | None,
    creator: str | None,
    states: tuple[str, ...],
    output: Path | None,
) -> None:
    """Export orders as CSV, one row per order, oldest first.

    Dates are days in the COLLABBOT_TIMEZONE; both ends are included. The export holds no
    shipping addresses or contact details.
    """
    settings = options.settings()
    zone = ZoneInfo(settings.timezone)
    try:
        start = parse_moment(since, zone) if since else None
        end = parse_moment(until, zone, end_of_day=True) if until else None
    except BadMoment as error:
        _fail(str(error))
    if start and end and end <= start:
        _fail("--until is before --since; nothing could match.")
    wanted = frozenset(OrderState(state.lower()) for state in states) or None

    async def work(runtime: Runtime) -> int:
        mp = runtime.marketplace
        query = OrderQuery(
            since=start,
            until=end,
            offer_id=offer_id,
            seller_id=await lookups.seller_id(mp, seller_name) if seller_name else None,
            creator_id=await lookups.creator_id(mp, creator) if creator else None,
            states=wanted,
        )
        if offer_id is not None:
            await lookups.require_offer(mp, offer_id)
        if output is None:
            return await write_orders_csv(mp, SYSTEM, query, sys.stdout)
        return await write_orders_file(mp, SYSTEM, query, output)

    count = _with_marketplace(options, work)
    if output is not None:
        click.echo(f"Exported {count} order{'s' if count != 1 else ''} to {output}.", err=True)


# --- demo ---------------------------------------------------------------------------------


@cli.group()
def demo() -> None:
    """Demo data for trying collabbot out."""


@demo.command("seed")
@pass_options
def demo_seed(options: _Options) -> None:
    """Fill the database with a small demo marketplace.

    Three sellers with staff on Telegram, Discord, WhatsApp and the web, an operator, eight
    creators, offers of every video type and orders in every state, made through the same
    rules as the chats. Running it again changes nothing. Use a database of its own: the
    people are fictional and the notices queued for them would be sent by a running bot.
    """
    now = SystemClock().now()
    clock = FixedClock(now - timedelta(days=STORY_DAYS))

    async def work(runtime: Runtime) -> DemoSummary | str:
        try:
            return await seed_demo(runtime.marketplace, clock)
        except DemoAlreadyThere as error:
            return str(error)

    summary = _with_marketplace(options, work, clock=clock)
    if isinstance(summary, str):
        # Already seeded: saying so is the whole (successful) answer.
        click.echo(summary)
        return
    states = ", ".join(f"{state.value} {n}" for state, n in sorted(summary.orders.items()))
    click.echo(
        f"Seeded the demo marketplace: {summary.sellers} sellers, {summary.creators} creators, "
        f"{summary.offers} offers, {sum(summary.orders.values())} orders ({states})."
    )
    click.echo("Web logins: " + ", ".join(DEMO_LOGINS))


# --- run ----------------------------------------------------------------------------------


@cli.command("run")
@pass_options
def run_command(options: _Options) -> None:
    """Run the bot: every configured chat platform and the notice dispatcher, until stopped
    with Ctrl-C or SIGTERM."""
    from bots.logs import configure_logging
    from bots.runner import run

    settings = options.settings()
    configure_logging(settings)
    _run(options, run(settings), settings)


# --- config -------------------------------------------------------------------------------


@cli.command("config")
@click.option("--docs", is_flag=True, help="Print the table of every setting (Markdown) instead.")
@pass_options
def config(options: _Options, docs: bool) -> None:
    """Show the effective settings, with passwords hidden."""
    if docs:
        click.echo(settings_table_markdown(), nl=False)
        return
    settings = options.settings()
    chosen = settings.model_fields_set
    rows = [
        (env_var_name(name or ""), "(unset)" if value is None else str(value), name in chosen)
        for name, value in settings.__repr_args__()
    ]
    width = max(len(variable) for variable, _, _ in rows)
    for variable, value, is_set in rows:
        origin = "" if is_set else "  (default)"
        click.echo(f"{variable.ljust(width)}  {value}{origin}")


def main() -> None:
    """Entry point of the ``collabbot`` console script."""
    cli(prog_name="collabbot")
