"""The web playground driven in a real headless Chromium, against a real `collabbot run --demo`.

A seller's page is open; a creator, in a second page, types /offers, opens an offer and
claims it. The seller's page shows the new-application notice as soon as the dispatcher
delivers it; the seller reviews the applications and approves; the creator's page, never
reloaded, shows "You were selected".

Chromium is Debian's (`/usr/bin/chromium`, installed by `.ci/run`); Playwright drives it and
never downloads a browser. Without it the test skips, or fails with
COLLABBOT_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import skip_or_fail

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_LIMIT_S = 60.0
NOTICE_LIMIT_MS = 30_000  # the demo holds new applications 5 s for a digest; 1 s polling
STEP_LIMIT_MS = 15_000

OFFER = "Bamboo Cutting Board Set, 3 pieces"  # Lumina Kitchenware's, approved by the seller
CREATOR = "Priya Nair"  # demo-creator-3: an influencer who has not claimed it yet
SELLER = "Lumina Kitchenware"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Playground:
    """`collabbot run --demo` in a subprocess, on a SQLite file and a port of its own."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = folder / "collabbot.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABBOT_")}
        env.update(
            COLLABBOT_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/demo.sqlite3",
            COLLABBOT_HTTP_LISTEN=f"127.0.0.1:{self.port}",
            COLLABBOT_DISPATCH_INTERVAL_SECONDS="0.5",
            PYTHONPATH=str(REPO_ROOT),
        )
        self.popen = subprocess.Popen(
            [sys.executable, "-c", "from bots.cli import main; main()", "run", "--demo"],
            cwd=folder,  # no stray .env file
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        start = time.monotonic()
        while time.monotonic() - start < START_LIMIT_S:
            if self.popen.poll() is not None:
                raise AssertionError(f"collabbot run --demo exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(
            f"the playground did not answer within {START_LIMIT_S} s:\n{self.log()}"
        )

    def stop(self) -> int | None:
        """SIGTERM, as an operator would; returns the exit status."""
        try:
            if self.popen.poll() is None:
                self.popen.send_signal(signal.SIGTERM)
                try:
                    self.popen.wait(30)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait(10)
                    return None
            return self.popen.returncode
        finally:
            self._log.close()


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[Playground]:
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    running = Playground(tmp_path)
    try:
        running.wait_until_serving()
        yield running
    finally:
        status = running.stop()
    assert status == 0, f"collabbot did not stop cleanly (status {status}):\n{running.log()}"


def test_a_claim_and_an_approval_reach_the_other_page_live(
    playground: Playground, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        try:
            errors: list[str] = []
            seller = browser.new_page()
            creator = browser.new_page()
            for page in (seller, creator):
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.set_default_timeout(STEP_LIMIT_MS)

            # The seller's page is open first, so the notice has to arrive live.
            seller.goto(playground.url + "?as=demo-seller-lumina")
            expect(seller.locator("#status")).to_have_attribute("data-state", "live")
            expect(seller.locator("#me-name")).to_have_text(SELLER)

            # The creator picks who they are on the page, and browses with a typed command.
            creator.goto(playground.url)
            creator.get_by_role("button", name=CREATOR).click()
            expect(creator.locator("#status")).to_have_attribute("data-state", "live")
            creator.evaluate("window.notReloaded = true")
            box = creator.get_by_role("textbox", name="Message")
            box.fill("<b>not bold</b> & /x")
            box.press("Enter")
            mine = creator.locator(".row.me .bubble").last
            expect(mine).to_have_text("<b>not bold</b> & /x")
            assert mine.locator("b").count() == 0, "typed text must never become markup"
            box.fill("/offers")
            box.press("Enter")
            hall = creator.locator(".row.bot", has_text="Offers for you").last
            hall.locator(".keyboard button", has_text=OFFER).click()
            details = creator.locator(".row.bot", has_text="Requirements:").last
            details.get_by_role("button", name=re.compile("Claim this offer")).click()
            claimed = creator.locator(".row.bot", has_text="Claimed! Your order number is").last
            expect(claimed).to_be_visible()
            number = re.search(r"order number is (\S+?)\.", claimed.inner_text())
            assert number is not None
            order = number.group(1)

            # The notice reaches the seller's open page without any action there.
            notice = seller.locator(
                ".row.notice.flash", has_text=f"{CREATOR} applied for {OFFER} ({order})"
            )
            expect(notice).to_be_visible(timeout=NOTICE_LIMIT_MS)
            notice.get_by_role("button", name="Review applications").click()
            applications = seller.locator(".row.bot", has_text="Applications, best match first")
            approve = applications.last.get_by_role(
                "button", name=re.compile(rf"^✓ \d+\. {CREATOR}$")
            )
            approve.click()
            expect(seller.locator(".row.bot", has_text=f"Selected {order}.").last).to_be_visible()
            # The answer replaced the notice's bubble instead of adding one.
            expect(
                seller.locator(".row.bot", has_text="Applications, best match first")
            ).to_have_count(1)

            # The creator's page shows the selection live, never reloaded.
            selected = creator.locator(".row.notice", has_text=f"You were selected for {OFFER}!")
            expect(selected).to_be_visible(timeout=NOTICE_LIMIT_MS)
            assert creator.evaluate("window.notReloaded === true")
            creator.screenshot(path=str(tmp_path / "creator.png"))
            seller.screenshot(path=str(tmp_path / "seller.png"))
            assert not errors, f"errors on the page: {errors}"
        finally:
            browser.close()
