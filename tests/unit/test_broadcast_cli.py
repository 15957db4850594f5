"""`collabbot broadcast`: send (with the recipient count and a confirmation), status, cancel,
list — on a SQLite database of each test's own."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from bots.bootstrap import Runtime
from bots.cli import cli
from core import services as s
from core.domain.broadcasts import BroadcastState
from core.domain.common import Platform
from core.services import Actor
from core.services.broadcasts import broadcast_progress
from notifications.broadcasts import expand_due_broadcasts
from tests.cli.conftest import Collabbot, assert_clean_failure
from tests.cli.conftest import clean_environment as clean_environment  # autouse

SYSTEM = Actor.system()


@pytest.fixture
def market(sqlite_url: str) -> Collabbot:
    """A migrated database with two onboarded creators, one of them in Germany."""
    collabbot = Collabbot(sqlite_url)
    collabbot.ok("db", "upgrade")

    async def stock(runtime: Runtime) -> None:
        mp = runtime.marketplace
        for user_id, country in (("501", "US"), ("502", "DE")):
            member = await s.register_identity(mp, Platform.TELEGRAM, user_id, user_id, "C")
            changes = s.ProfileChanges(country=country, finish_onboarding=True)
            await s.update_profile(mp, Actor.member(member.id or 0), changes)

    collabbot.inspect(stock)
    return collabbot


def answering(collabbot: Collabbot, answer: str, *args: str) -> Result:
    """Run the command line and type ``answer`` when it asks."""
    return CliRunner().invoke(cli, ["--database-url", collabbot.url, *args], input=answer + "\n")


def test_send_shows_the_count_asks_and_schedules(market: Collabbot) -> None:
    result = answering(market, "y", "broadcast", "send", "--text", "Hello creators")

    assert result.exit_code == 0, result.output
    assert "This announcement goes to 2 creator(s): all creators, now." in result.stdout
    assert "Announcement 1 is scheduled now" in result.stdout
    assert "collabbot broadcast status 1" in result.stdout


def test_send_without_confirmation_sends_nothing(market: Collabbot) -> None:
    result = answering(market, "n", "broadcast", "send", "--text", "Hi", "--audience", "country:de")

    assert_clean_failure(result, "not sent")
    assert "goes to 1 creator(s): creators in DE" in result.stdout
    assert "No announcements yet" in market.ok("broadcast", "list").stdout


def test_send_at_a_time_with_a_link_then_follow_and_cancel_it(market: Collabbot) -> None:
    market.ok(
        "broadcast",
        "send",
        "--text",
        "Flash sale tonight",
        "--link-label",
        "Shop",
        "--link-url",
        "https://example.com/sale",
        "--at",
        "2099-01-01 20:00",
        "--yes",
    )

    status = market.ok("broadcast", "status", "1").stdout
    listing = market.ok("broadcast", "list").stdout
    cancelled = market.ok("broadcast", "cancel", "1").stdout

    assert "announcement 1 [scheduled] to all creators" in status
    assert "scheduled    2099-01-01 20:00 (UTC)" in status
    assert "recipients   2" in status
    assert "scheduled  all creators  sent 0/0  Flash sale tonight" in listing
    assert "Announcement 1 is cancelled." in cancelled
    assert "[cancelled]" in cancelled


def test_status_after_sending_counts_what_is_waiting(market: Collabbot) -> None:
    market.ok("broadcast", "send", "--text", "Hi", "--audience", "platform:telegram", "--yes")

    async def expand(runtime: Runtime) -> int:
        return await expand_due_broadcasts(runtime.marketplace)

    assert market.inspect(expand) == 2
    status = market.ok("broadcast", "status", "1").stdout
    assert "[sending]" in status
    assert "waiting      2" in status


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--audience", "everyone"), "Unknown audience"),
        (("--audience", "category:cars"), "Unknown category"),
        (("--image", "http://example.com/a.jpg"), "https:// address of a picture"),
        (("--link-label", "Shop"), "A link button needs both a label and a URL."),
        (("--at", "next week"), "Send the time as YYYY-MM-DD HH:MM"),
        (("--at", "2001-01-01 10:00"), "That time has passed"),
        (("--audience", "offer:77"), "Unknown offer."),
        (("--audience", "country:FR"), "no creator matches this audience (creators in FR)"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(
    market: Collabbot, args: tuple[str, ...], message: str
) -> None:
    result = market("broadcast", "send", "--text", "Hi", "--yes", *args)

    assert_clean_failure(result, message)
    assert "No announcements yet" in market.ok("broadcast", "list").stdout


def test_unknown_or_finished_broadcasts_are_refused(market: Collabbot) -> None:
    assert_clean_failure(market("broadcast", "status", "9"), "There is no announcement #9.")
    market.ok("broadcast", "send", "--text", "Hi", "--yes")
    market.ok("broadcast", "cancel", "1")
    assert_clean_failure(market("broadcast", "cancel", "1"), "already")


def test_the_state_is_kept_in_the_database(market: Collabbot) -> None:
    market.ok("broadcast", "send", "--text", "Hi", "--yes")

    async def state(runtime: Runtime) -> BroadcastState:
        return (await broadcast_progress(runtime.marketplace, SYSTEM, 1)).broadcast.state

    assert market.inspect(state) is BroadcastState.SCHEDULED
