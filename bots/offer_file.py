"""Reading an offer import file: JSON or CSV rows, each with where it stands in the file.

The format itself is described in docs/offer-import.md; the fields are checked in
:mod:`bots.offer_import`.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "MAX_OFFERS",
    "ImportRejected",
    "OfferFileUnreadable",
    "OfferRow",
    "Problem",
    "read_offer_file",
    "unknown_field",
]

MAX_OFFERS = 1000
"""More offers than this in one file is almost certainly a mistake (and a long transaction)."""

COLUMNS = (
    "title",
    "asin",
    "product_url",
    "image_url",
    "marketplace",
    "category",
    "price",
    "currency",
    "video_type",
    "slots",
    "reward",
    "fee",
    "fee_currency",
    "requirements",
    "landscape",
    "min_length_seconds",
    "outdoor",
    "with_children",
    "with_pets",
    "face_visible",
    "selection",
    "audience_categories",
    "audience_countries",
    "audience_languages",
    "min_completed_videos",
    "top_creators_only",
    "application_deadline",
    "content_deadline_days",
    "publish",
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix in the file: where, which field, and what to do."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.where, self.field) if p)
        return f"{place}: {self.message}" if place else self.message


class OfferFileUnreadable(Exception):
    """The file cannot be opened or decoded at all."""


class ImportRejected(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            f"{source}: {count} problem{'s' if count != 1 else ''} found, nothing was imported. "
            "Fix the file and run the import again."
        )


@dataclass(frozen=True, slots=True)
class OfferRow:
    """One offer as it stands in the file, before checking."""

    where: str
    values: Mapping[str, Any]


def read_offer_file(path: Path) -> list[OfferRow]:
    """The offers in a JSON or CSV file, each with where it stands in the file.

    The format is taken from the extension (``.json``, ``.csv``), else from the content.
    Raises :class:`OfferFileUnreadable` when the file cannot be opened or is not UTF-8, and
    :class:`ImportRejected` when it is not valid JSON or CSV, or holds no offers.
    """
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise OfferFileUnreadable(f"cannot read {path}: {_os_reason(error)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise OfferFileUnreadable(
            f"{source} is not UTF-8 text (line {line}). Save it as UTF-8; in Excel choose "
            "“CSV UTF-8”."
        ) from None
    suffix = path.suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{"))
    rows = _json_rows(source, text) if is_json else _csv_rows(source, text)
    if not rows:
        raise ImportRejected(source, [Problem("", "", "the file holds no offers.")])
    if len(rows) > MAX_OFFERS:
        raise ImportRejected(
            source,
            [
                Problem(
                    "",
                    "",
                    f"the file holds {len(rows)} offers; import at most {MAX_OFFERS} at a "
                    "time (split the file).",
                )
            ],
        )
    return rows


def _os_reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "there is no such file."
    if isinstance(error, IsADirectoryError):
        return "that is a folder, not a file."
    if isinstance(error, PermissionError):
        return "no permission to read this file."
    return f"cannot read the file ({error.strerror or error})."


def _json_rows(source: str, text: str) -> list[OfferRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRejected(
            source,
            [Problem(f"line {error.lineno}", "", f"not valid JSON ({error.msg}).")],
        ) from None
    if isinstance(data, dict) and "offers" in data:
        data = data["offers"]
    if not isinstance(data, list):
        raise ImportRejected(
            source,
            [
                Problem(
                    "",
                    "",
                    'a JSON file must hold a list of offers, or an object {"offers": [...]}.',
                )
            ],
        )
    rows: list[OfferRow] = []
    problems: list[Problem] = []
    for index, item in enumerate(data):
        where = f"index {index}"
        if not isinstance(item, dict):
            problems.append(Problem(where, "", "each offer must be a JSON object {...}."))
            continue
        rows.append(OfferRow(where, item))
    if problems:
        raise ImportRejected(source, problems)
    return rows


def _csv_rows(source: str, text: str) -> list[OfferRow]:
    header_line = text.split("\n", 1)[0]
    # Spreadsheets set to a European locale save with semicolons.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[OfferRow] = []
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [name.strip().lower() for name in header]
        problems = _header_problems(names)
        if problems:
            raise ImportRejected(source, problems)
        start = reader.line_num + 1
        for cells in reader:
            where = f"line {start}"
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names):
                extra = cells[len(names) :]
                if any(cell.strip() for cell in extra):
                    problems.append(
                        Problem(
                            where,
                            "",
                            f"has {len(cells)} cells but the header names {len(names)} "
                            "columns. Is a comma inside a value missing its quotes?",
                        )
                    )
                    continue
            values = {name: cell for name, cell in zip(names, cells, strict=False) if name}
            rows.append(OfferRow(where, values))
    except csv.Error as error:
        raise ImportRejected(
            source, [Problem(f"line {reader.line_num}", "", f"not valid CSV ({error}).")]
        ) from None
    if problems:
        raise ImportRejected(source, problems)
    return rows


def _header_problems(names: Sequence[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name in seen:
            problems.append(Problem("line 1", name, "this column appears twice."))
        seen.add(name)
        if name not in COLUMNS:
            problems.append(Problem("line 1", name, unknown_field(name)))
    return problems


def unknown_field(name: str) -> str:
    close = difflib.get_close_matches(name, COLUMNS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else " See docs/offer-import.md for the list."
    return f"unknown column.{hint}"
