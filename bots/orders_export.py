"""The orders "data review" export as CSV, written while it is read in batches.

The columns are :data:`core.services.EXPORT_COLUMNS`; no addresses or contact details are
in them. Cells that a spreadsheet would run as a formula are made plain text.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from core.ports.repositories import OrderQuery
from core.services import EXPORT_COLUMNS, Actor, Marketplace, export_orders

__all__ = [
    "BadMoment",
    "ExportNotWritten",
    "parse_moment",
    "write_orders_csv",
    "write_orders_file",
]

BATCH = 500
# A cell starting with one of these is a formula to Excel and LibreOffice. Creator names and
# other text come from chat users, so they must never run as one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class BadMoment(ValueError):
    """A date or time on the command line that cannot be read."""


class ExportNotWritten(Exception):
    """The export file cannot be written."""


def parse_moment(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """``2026-03-01`` (midnight in ``zone``; with ``end_of_day`` the next midnight, so the
    whole day is included) or an ISO date and time such as ``2026-03-01T14:30`` (in ``zone``
    unless it names its own offset)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), zone)
            return (day + timedelta(days=1) if end_of_day else day).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadMoment(
            f"{text!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-03-01) or YYYY-MM-DDTHH:MM."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


async def write_orders_csv(
    mp: Marketplace, actor: Actor, query: OrderQuery, out: TextIO, *, batch: int = BATCH
) -> int:
    """Write the header and every matching order to ``out``; returns how many orders."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    async for row in export_orders(mp, actor, query, batch=batch):
        values = row.values()
        writer.writerow([_cell(values[column]) for column in EXPORT_COLUMNS])
        count += 1
        if count % batch == 0:
            out.flush()
    out.flush()
    return count


async def write_orders_file(mp: Marketplace, actor: Actor, query: OrderQuery, path: Path) -> int:
    """Like :func:`write_orders_csv`, into ``path``, which appears only once it is complete."""
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    partial = path.with_name(path.name + ".part")
    try:
        out = partial.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise ExportNotWritten(f"cannot write {path}: {error.strerror or error}.") from None
    try:
        with out:
            count = await write_orders_csv(mp, actor, query, out)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
