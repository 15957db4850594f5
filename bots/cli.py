"""The ``collabbot`` command line: the database, operators, sellers, offers, exports, demo,
the notice outbox.

Every command acts as the system (:meth:`Actor.system`) through the same use cases as the
chats. A refusal or bad input prints ``error: …`` to stderr and exits with status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bots import event_loop, lookups
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
from bots.http_app import CannotListen
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
from bots.settings import (
    InvalidApiTokens,
    Settings,
    env_var_name,
    load_settings,
    settings_table_markdown,
)
from core.conversations.i18n import translator
from core.conversations.screens.broadcast import audience_text, local_time
from core.domain.broadcasts import Broadcast
from core.domain.errors import DomainError, InvalidInput
from core.domain.orders import OrderState
from core.ports.clock import Clock, FixedClock, SystemClock
from core.ports.repositories import AbstractUnitOfWork, OrderQuery, OutboxEntry
from core.services import Actor, add_operator, add_seller, find_member, parse_identity
from core.services.broadcasts import (
    BroadcastDraft,
    BroadcastProgress,
    audience_size,
    broadcast_progress,
    cancel_broadcast,
    check_draft,
    create_broadcast,
    parse_audience,
    parse_send_time,
    recent_broadcasts,
)
from storage.migrate import current_revision, upgrade
from storage.repositories.outbox import OutboxStatus
from storage.repositories.outbox import outbox as outbox_rows

if TYPE_CHECKING:
    from bots.runner import Role

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
        return event_loop.run(work)
    except DomainError as error:
        _fail(error.message)
    except (
        DatabaseNotReady,
        OfferFileUnreadable,
        ExportNotWritten,
        DemoIncomplete,
        CannotListen,
        InvalidApiTokens,
    ) as error:
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


# --- outbox -------------------------------------------------------------------------------

DEAD = OutboxStatus.DEAD.value
REVIVE_BATCH = 1000  # ids per statement, well below the databases' parameter limits


@cli.group(invoke_without_command=True)
@pass_options
def outbox(options: _Options) -> None:
    """How many notices wait, were sent or were given up on.

    pending: waiting to be sent; sending: claimed by a dispatcher right now; sent; dead:
    given up on (list them with `outbox dead`, queue them again with `outbox retry`).
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    counts = _with_marketplace(options, _outbox_counts)
    width = max(len(str(n)) for n in counts.values())
    for state, n in counts.items():
        click.echo(f"{state:<8} {n:>{width}}")
    if counts[DEAD]:
        click.echo("See the dead ones with: collabbot outbox dead")


async def _outbox_counts(runtime: Runtime) -> dict[str, int]:
    """Notices by state, every state listed (0 when none)."""
    statement = select(outbox_rows.c.status, func.count()).group_by(outbox_rows.c.status)
    async with runtime.database.unit_of_work() as uow:
        found = {state: n for state, n in await uow.session.execute(statement)}
    return {state.value: found.get(state.value, 0) for state in OutboxStatus}


@outbox.command("dead")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    metavar="N",
    help="Show at most N, oldest first.",
)
@pass_options
def outbox_dead(options: _Options, limit: int) -> None:
    """List the dead notices, oldest first.

    Each with its id, template, recipient (member id), failed attempts and last error;
    nothing personal is shown.
    """

    async def work(runtime: Runtime) -> tuple[list[OutboxEntry], int]:
        async def letters(uow: AbstractUnitOfWork) -> list[OutboxEntry]:
            return await uow.outbox.dead_letters(limit)

        entries = await runtime.marketplace.transaction(letters)
        return entries, (await _outbox_counts(runtime))[DEAD]

    entries, total = _with_marketplace(options, work)
    if not entries:
        click.echo("No dead notices.")
        return
    click.echo(f"{'id':>8}  {'template':<20}  {'member':>8}  attempts  last error")
    for e in entries:
        error = " ".join((e.last_error or "-").split())
        member = e.recipient_id or "-"
        click.echo(f"{e.id:>8}  {e.template.value:<20}  {member:>8}  {e.attempts:>8}  {error}")
    if total > len(entries):
        click.echo(f"The oldest {len(entries)} of {total} dead notices; see more with --limit.")
    click.echo("Queue them again with: collabbot outbox retry ID... (or --all-dead)")


@outbox.command("retry")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--all-dead", is_flag=True, help="Every dead notice instead of the ones given.")
@pass_options
def outbox_retry(options: _Options, ids: tuple[str, ...], all_dead: bool) -> None:
    """Queue dead notices again.

    They are due at once with their failed attempts reset, and a running dispatcher sends
    them. Either all or none of the ids given are queued.
    """
    if all_dead == bool(ids):
        _fail(
            "give the ids of dead notices (see: collabbot outbox dead) or --all-dead"
            + (", not both" if ids else "")
        )
    bad = [text for text in ids if not (text.isdigit() and int(text) > 0)]
    if bad:
        _fail(f"notice ids are positive whole numbers, not {', '.join(map(repr, bad))}")
    wanted = sorted({int(text) for text in ids}) if ids else None

    async def work(runtime: Runtime) -> list[int]:
        return await _revive(runtime, wanted)

    revived = _with_marketplace(options, work)
    if not revived:
        click.echo("There are no dead notices.")
        return
    shown = ", ".join(map(str, revived[:20])) + (", …" if len(revived) > 20 else "")
    noun = "notice" if len(revived) == 1 else "notices"
    click.echo(f"Queued {len(revived)} dead {noun} again: {shown}")


async def _revive(runtime: Runtime, wanted: list[int] | None) -> list[int]:
    """Revive the dead notices ``wanted`` (all of them for ``None``) in one transaction;
    refuses, changing nothing, when any of ``wanted`` is unknown or not dead."""
    rows = outbox_rows.c
    async with runtime.database.unit_of_work() as uow:
        if wanted is None:
            found = await uow.session.execute(select(rows.id).where(rows.status == DEAD))
            ids = sorted(found.scalars())
        else:
            found = await uow.session.execute(
                select(rows.id, rows.status).where(rows.id.in_(wanted))
            )
            states = {notice: state for notice, state in found}
            problems = [f"there is no notice {i}" for i in wanted if i not in states]
            problems += [f"notice {i} is {states[i]}" for i in sorted(states) if states[i] != DEAD]
            if problems:
                raise InvalidInput(
                    f"{'; '.join(problems)}. Only dead notices can be queued again (see: "
                    "collabbot outbox dead); nothing was changed."
                )
            ids = wanted
        now = runtime.clock.now()
        for start in range(0, len(ids), REVIVE_BATCH):
            await uow.outbox.revive(ids[start : start + REVIVE_BATCH], now)
        await uow.commit()
    return ids


# --- broadcasts ---------------------------------------------------------------------------

AUDIENCE_HELP = "all, top, platform:telegram, category:beauty, country:US, language:en or offer:12"


@cli.group()
def broadcast() -> None:
    """Announcements to creators: send one, follow its progress, stop it. The running bot
    (`collabbot run`) queues and delivers them."""


@broadcast.command("send")
@click.option("--text", required=True, help="The announcement (at most 3500 characters).")
@click.option("--image", "image_url", default="", metavar="URL", help="An image (https://…).")
@click.option("--link-label", default="", metavar="LABEL", help="A link button's label.")
@click.option("--link-url", default="", metavar="URL", help="Where the button leads (https://…).")
@click.option("--audience", default="all", show_default=True, metavar="WHO", help=AUDIENCE_HELP)
@click.option(
    "--at",
    metavar='"YYYY-MM-DD HH:MM"',
    help="Send at this time in COLLABBOT_TIMEZONE (or after a delay: 'in 2h') instead of now.",
)
@click.option("--yes", is_flag=True, help="Send without asking to confirm.")
@pass_options
def broadcast_send(
    options: _Options,
    text: str,
    image_url: str,
    link_label: str,
    link_url: str,
    audience: str,
    at: str | None,
    yes: bool,
) -> None:
    """Send an announcement to creators (onboarded, active, not opted out): prints how many
    it reaches and asks to confirm."""
    settings = options.settings()
    zone = ZoneInfo(settings.timezone)
    try:
        draft = BroadcastDraft(text, parse_audience(audience), image_url, link_label, link_url)
        check_draft(draft)
        when = parse_send_time(at, SystemClock().now(), zone) if at else None
    except DomainError as error:
        _fail(error.message)

    async def count(runtime: Runtime) -> int:
        return await audience_size(runtime.marketplace, SYSTEM, draft.audience)

    reached = _with_marketplace(options, count)
    who = audience_text(translator("en"), draft.audience)
    if reached == 0:
        _fail(f"no creator matches this audience ({who}); nothing was sent")
    moment = f"at {local_time(when, zone)}" if when else "now"
    click.echo(f"This announcement goes to {reached} creator(s): {who}, {moment}.")
    if not yes and not click.confirm("Send it?"):
        _fail("not sent")

    async def send(runtime: Runtime) -> Broadcast:
        now = runtime.clock.now()
        return await create_broadcast(runtime.marketplace, SYSTEM, draft, send_at=when or now)

    sent = _with_marketplace(options, send)
    click.echo(
        f"Announcement {sent.id} is scheduled {moment}; the running bot sends it. "
        f"Follow it with: collabbot broadcast status {sent.id}"
    )


def _progress_report(progress: BroadcastProgress, zone: ZoneInfo) -> list[str]:
    b = progress.broadcast
    who = audience_text(translator("en"), b.audience)
    lines = [f"announcement {b.id} [{b.state.value}] to {who}"]
    if b.scheduled_at is not None:
        lines.append(f"scheduled    {local_time(b.scheduled_at, zone)}")
    numbers = {
        "recipients": progress.recipients,
        "sent": progress.sent,
        "failed": progress.failed,
        "unreachable": progress.unreachable,
        "skipped": progress.skipped,
        "waiting": progress.pending,
    }
    if progress.not_sent:
        numbers["cancelled"] = progress.not_sent
    width = max(len(str(n)) for n in numbers.values())
    lines += [f"{name:<12} {n:>{width}}" for name, n in numbers.items()]
    return lines


@broadcast.command("status")
@click.argument("broadcast_id", metavar="ID", type=click.IntRange(min=1))
@pass_options
def broadcast_status(options: _Options, broadcast_id: int) -> None:
    """How far an announcement is: recipients, sent, failed, unreachable (blocked the bot),
    skipped (turned announcements off meanwhile) and still waiting."""

    async def work(runtime: Runtime) -> BroadcastProgress:
        return await broadcast_progress(runtime.marketplace, SYSTEM, broadcast_id)

    progress = _with_marketplace(options, work)
    for line in _progress_report(progress, ZoneInfo(options.settings().timezone)):
        click.echo(line)


@broadcast.command("cancel")
@click.argument("broadcast_id", metavar="ID", type=click.IntRange(min=1))
@pass_options
def broadcast_cancel(options: _Options, broadcast_id: int) -> None:
    """Stop an announcement: creators who have not got it will not; what was sent stays sent."""

    async def work(runtime: Runtime) -> BroadcastProgress:
        return await cancel_broadcast(runtime.marketplace, SYSTEM, broadcast_id)

    progress = _with_marketplace(options, work)
    click.echo(f"Announcement {broadcast_id} is cancelled.")
    for line in _progress_report(progress, ZoneInfo(options.settings().timezone)):
        click.echo(line)


@broadcast.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, metavar="N")
@pass_options
def broadcast_list(options: _Options, limit: int) -> None:
    """The newest announcements: id, state, audience, sent of recipients, and their text."""

    async def work(runtime: Runtime) -> list[Broadcast]:
        return await recent_broadcasts(runtime.marketplace, SYSTEM, limit)

    found = _with_marketplace(options, work)
    if not found:
        click.echo("No announcements yet. Send one with: collabbot broadcast send --text …")
        return
    en = translator("en")
    for b in found:
        excerpt = " ".join(b.text.split())
        excerpt = excerpt if len(excerpt) <= 50 else excerpt[:49] + "…"
        click.echo(
            f"{b.id:>5}  {b.state.value:<9}  {audience_text(en, b.audience)}  "
            f"sent {b.sent}/{b.recipients}  {excerpt}"
        )


# --- run ----------------------------------------------------------------------------------


@cli.command("run")
@click.option(
    "--role",
    multiple=True,
    default=("all",),
    show_default=True,
    metavar="ROLE[,ROLE...]",
    help="What this process does (repeat the option or list several): web = the HTTP endpoint "
    "and the chat updates arriving on it (webhooks); poller = Telegram long polling and the "
    "Discord gateway (one per bot token); worker = deliver notices; scheduler = the scheduled "
    "jobs (one leads); all = everything.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Try collabbot in a browser: create the schema and the demo data when missing, and "
    "serve the web playground (http://127.0.0.1:8080 unless COLLABBOT_HTTP_LISTEN says "
    "otherwise) next to any configured chat platform.",
)
@pass_options
def run_command(options: _Options, role: tuple[Role, ...], demo: bool) -> None:
    """Run the bot: every configured chat platform, the notice dispatcher and the scheduler,
    until stopped with Ctrl-C or SIGTERM (which lets the work in flight finish first); or,
    with --role, only part of that, to scale each part on its own."""
    from bots.logs import configure_logging
    from bots.runner import parse_roles, run

    try:
        roles = parse_roles(role)
    except ValueError as error:
        _fail(f"--role: {error}")
    settings = options.settings()
    if demo:
        from bots.web.demo_mode import demo_settings, playground_url, prepare_demo

        if "all" not in roles:
            _fail("--demo runs everything in one process; leave out --role")
        settings = demo_settings(settings)
        for line in _run(options, prepare_demo(settings), settings):
            click.echo(line)
        click.echo(f"The web playground: {playground_url(settings)} (Ctrl-C stops it)")
    tokens = (settings.telegram_token, settings.whatsapp_token, settings.discord_token)
    if "worker" in roles and all(token is None for token in tokens):
        _fail(
            "a worker sends notices, so it needs a chat platform: set COLLABBOT_TELEGRAM_TOKEN, "
            "COLLABBOT_WHATSAPP_TOKEN or COLLABBOT_DISCORD_TOKEN as for the main process"
        )
    if "scheduler" in roles and not settings.scheduler_enabled:
        _fail("--role scheduler runs the scheduler, but COLLABBOT_SCHEDULER_ENABLED is off")
    configure_logging(settings)
    _run(options, run(settings, role=roles), settings)


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
