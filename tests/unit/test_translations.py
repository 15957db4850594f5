"""The chat's message catalogues: complete, translated, compiled, and covering every refusal.

Messages live in ``core/conversations/locales``: ``messages.pot`` (every message id, extracted
from the source), ``<lang>/LC_MESSAGES/messages.po`` (its translations) and ``messages.mo``
(what :class:`core.conversations.i18n.Translator` loads at run time). ``en`` keeps every
``msgstr`` empty: gettext then shows the id itself, which is the English text.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
import string
import typing
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.util import pathmatch

from core.amazon import VideoLinkProblem
from core.conversations.errors import ERROR_MESSAGES, error_text
from core.conversations.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, Translator
from core.conversations.labels import ORDER_STATES
from core.domain.errors import InvalidTransition
from core.domain.offers import Ineligibility

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
# The keywords of the extraction command (babel.cfg cannot hold them): t("..."), ctx.t("..."),
# N_("...") and t.plural("...", "...", n), on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None, "N_": None, "plural": (1, 2)}
MARKERS = {"t", "N_", "plural"}

HOW_TO_UPDATE = """
Update the catalogues from the repository root, translate what is new in
core/conversations/locales/zh/LC_MESSAGES/messages.po, then compile (see babel.cfg):

  .venv/bin/pybabel extract -F babel.cfg -k t -k N_ -k plural:1,2 --no-location \\
      --sort-output --no-wrap --omit-header -o core/conversations/locales/messages.pot .
  .venv/bin/pybabel update -i core/conversations/locales/messages.pot \\
      -d core/conversations/locales -D messages --no-wrap --ignore-obsolete \\
      --no-fuzzy-matching --ignore-pot-creation-date
  .venv/bin/pybabel compile -d core/conversations/locales -D messages --statistics
"""

MessageId = str | tuple[str, ...] | list[str]


def _listing(items: typing.Iterable[object]) -> str:
    return "\n".join(f"  {item!r}" for item in items)


@cache
def mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """babel.cfg: which files to extract from, and how."""
    with BABEL_CFG.open(encoding="utf-8") as file:
        return parse_mapping_cfg(file, str(BABEL_CFG))  # type: ignore[no-untyped-call, no-any-return]


@cache
def extracted() -> dict[MessageId, str]:
    """Every message id in the source as it is now, with where it was first found."""
    method_map, options_map = mapping()
    found: dict[MessageId, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


@cache
def catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def template_ids() -> set[MessageId]:
    return {message.id for message in catalogue(TEMPLATE) if message.id}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def texts(value: MessageId | None) -> tuple[str, ...]:
    """The singular and plural forms of an id or a translation, as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (raises ValueError for unbalanced braces)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


# --- the template covers the source ---------------------------------------------------------


def test_template_holds_exactly_the_messages_in_the_source() -> None:
    source, template = extracted(), template_ids()
    missing = sorted(f"  {source[m]}: {m!r}" for m in source.keys() - template)
    stale = sorted(template - source.keys(), key=str)
    problems = []
    if missing:
        problems.append("Messages in the source but not in messages.pot:\n" + "\n".join(missing))
    if stale:
        problems.append(
            "Messages in messages.pot that the source no longer has:\n" + _listing(stale)
        )
    assert not problems, "\n".join(problems) + "\n" + HOW_TO_UPDATE


def _marked_calls() -> Iterator[tuple[str, ast.Call, str]]:
    """Calls of t / ctx.t / N_ / .plural in the files babel.cfg extracts from."""
    method_map, _ = mapping()
    patterns = [pattern for pattern, method in method_map if method == "python"]
    for path in sorted((ROOT / "core").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not any(pathmatch(pattern, relative) for pattern in patterns):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), relative)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in MARKERS and node.args:
                    yield name, node, f"{relative}:{node.lineno}"


def test_every_marked_message_is_extractable() -> None:
    """Babel only sees a literal string as the marker's argument: an f-string, a concatenation
    or ``.format()`` inside ``t(...)`` is never translated, and neither is a marker nested in
    another call's arguments inside ``t(...)`` (``t(d.get(k, N_("x")))``)."""
    source = extracted()
    unextractable = []
    for name, call, where in _marked_calls():
        arguments = call.args[:2] if name == "plural" else call.args[:1]
        for argument in arguments:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                ids = {m for m in source if argument.value in texts(m)}
                if not ids:
                    unextractable.append(f"{where}: {argument.value!r} is not extracted")
            elif isinstance(argument, ast.JoinedStr | ast.BinOp | ast.IfExp) or (
                isinstance(argument, ast.Call)
                and isinstance(argument.func, ast.Attribute)
                and argument.func.attr == "format"
            ):
                unextractable.append(f"{where}: {ast.unparse(argument)[:80]}")
    assert not unextractable, (
        "These messages cannot be extracted. Pass a literal string to t()/N_() (a constant "
        "defined with N_() at module level is fine) and put the values in {placeholders}:\n"
        + "\n".join(f"  {line}" for line in unextractable)
    )


# --- the catalogues -------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_exactly_the_template_messages(language: str) -> None:
    ids = {message.id for message in catalogue(po_path(language), language) if message.id}
    missing = sorted(template_ids() - ids, key=str)
    extra = sorted(ids - template_ids(), key=str)
    assert not missing, f"{language}: not in messages.po:\n{_listing(missing)}\n{HOW_TO_UPDATE}"
    assert not extra, f"{language}: no longer in messages.pot:\n{_listing(extra)}\n{HOW_TO_UPDATE}"


def test_english_catalogue_leaves_the_ids_as_they_are() -> None:
    """English is the message id itself: msgstr stays empty (or repeats the id)."""
    changed = [
        message.id
        for message in catalogue(po_path("en"), "en")
        if message.id
        and any(
            s and s != i for s, i in zip(texts(message.string), texts(message.id), strict=False)
        )
    ]
    assert not changed, (
        "Change the English text in the source, not in en/messages.po:\n" + _listing(changed)
    )


_COMMAND = re.compile(r"(?<![\w./])/[a-z]+")
_URL = re.compile(r"https?://[\w.-]+(?:/[\w.…/-]*)?")


def _translation_problems(message_id: MessageId, translation: MessageId | None) -> list[str]:
    """What is wrong with a translation: missing, other placeholders, other line breaks, or a
    lost /command, example URL or emoji."""
    ids, strings = texts(message_id), texts(translation)
    if not strings or not all(s.strip() for s in strings):
        return ["not translated"]
    problems = []
    # A plural form may leave out {count} ("one offer"); every other placeholder must stay.
    wanted = set().union(*map(placeholders, ids))
    optional = {"count"} if len(ids) > 1 else set()
    source = ids[-1]
    for text in strings:
        try:
            fields = placeholders(text)
        except ValueError as error:
            problems.append(f"not a valid format string ({error})")
            continue
        if not wanted - optional <= fields <= wanted:
            problems.append(f"placeholders {sorted(fields)} instead of {sorted(wanted)}")
        if text.count("\n") != source.count("\n"):
            problems.append("different line breaks")
        kept = [*_COMMAND.findall(source), *_URL.findall(source)]
        kept += [c for c in source if unicodedata.category(c) == "So"]
        lost = [token for token in kept if token not in text]
        if lost:
            problems.append(f"lost {lost}")
    return problems


def test_chinese_catalogue_translates_every_message() -> None:
    problems = []
    for message in catalogue(po_path("zh"), "zh"):
        if not message.id:
            continue
        found = _translation_problems(message.id, message.string)
        if message.fuzzy:
            found.append("marked fuzzy (check it, then remove the flag)")
        problems += [f"{message.id!r}: {problem}" for problem in found]
    assert not problems, "zh/LC_MESSAGES/messages.po:\n" + "\n".join(f"  {p}" for p in problems)


def test_placeholders_are_plain_names() -> None:
    """The translator fills placeholders from keyword arguments only."""
    odd = [
        m
        for m in template_ids()
        for text in texts(m)
        for f in placeholders(text)
        if not f.isidentifier()
    ]
    assert not odd, "Use {name} placeholders:\n" + _listing(odd)


# --- compiled catalogues --------------------------------------------------------------------


def _loaded(data: bytes) -> dict[object, str]:
    catalog = gettext.GNUTranslations(io.BytesIO(data))._catalog  # type: ignore[attr-defined]
    return {key: value for key, value in catalog.items() if key != ""}


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    assert mo_path(language).exists(), f"{mo_path(language)} is missing.\n{HOW_TO_UPDATE}"
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(po_path(language), language))
    expected = _loaded(compiled.getvalue())
    shipped = _loaded(mo_path(language).read_bytes())
    differing = sorted(
        (str(key) for key in expected.keys() ^ shipped.keys()),
    ) + sorted(
        str(key) for key in expected.keys() & shipped.keys() if expected[key] != shipped[key]
    )
    assert not differing, (
        f"{language}: messages.mo is out of date with messages.po "
        f"({len(differing)} messages differ, e.g. {differing[:3]}).\n{HOW_TO_UPDATE}"
    )


# --- at run time ----------------------------------------------------------------------------


def test_translator_speaks_chinese() -> None:
    zh = Translator("zh")
    assert zh.language == "zh"
    shipped = zh(ORDER_STATES["shipped"])
    assert shipped != ORDER_STATES["shipped"]
    assert any("\u4e00" <= c <= "\u9fff" for c in shipped)
    for message in catalogue(po_path("zh"), "zh"):
        if message.id and isinstance(message.id, str):
            assert zh.raw(message.id) == message.string
            params = dict.fromkeys(placeholders(message.id), "x")
            zh(message.id, **params)  # every translation formats with the id's placeholders


def test_refusals_are_told_in_chinese() -> None:
    zh = Translator("zh")
    error = InvalidTransition("This order is shipped.", code="order_bad_state", state="shipped")
    expected = zh.raw(ERROR_MESSAGES["order_bad_state"]).format(state=zh(ORDER_STATES["shipped"]))
    assert error_text(zh, error) == expected != error.message
    assert error_text(Translator("en"), error) == error.message


@pytest.mark.parametrize("language", ["en", "xx", "", "zh-Hant-TW"])
def test_other_languages_fall_back_to_english(language: str) -> None:
    t = Translator(language)
    if language != "en":
        assert t.language == "en"
    for message_id in template_ids():
        if isinstance(message_id, str):
            assert t.raw(message_id) == message_id


# --- every refusal has a message ------------------------------------------------------------


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def raised_error_codes() -> dict[str, str]:
    """Every ``DomainError`` code core can raise, with where it comes from.

    - ``code="..."`` given to any call in ``core/``;
    - ``video_link_<reason>`` for each :data:`core.amazon.VideoLinkProblem`;
    - every :class:`core.domain.offers.Ineligibility` value;
    - the class-level ``code = "..."`` of a ``DomainError`` (sub)class, when that class is
      raised somewhere without a ``code=`` of its own (``raise Busy("...")``). A class whose
      every raise names its own code (``NotFound("...", code="offer_not_found")``) never
      shows its class-level code to anyone.
    """
    codes: dict[str, str] = {}
    bases: dict[str, list[str]] = {}
    class_codes: dict[str, str] = {}
    bare_calls: list[tuple[str, str]] = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), relative)):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [n for n in map(_name, node.bases) if n]
                for statement in node.body:
                    target = (
                        statement.targets[0]
                        if isinstance(statement, ast.Assign)
                        else getattr(statement, "target", None)
                    )
                    value = getattr(statement, "value", None)
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "code"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        class_codes[node.name] = value.value
            elif isinstance(node, ast.Call):
                given = next((k.value for k in node.keywords if k.arg == "code"), None)
                if isinstance(given, ast.Constant) and isinstance(given.value, str):
                    codes.setdefault(given.value, f"{relative}:{node.lineno}")
                elif given is None and (name := _name(node.func)):
                    bare_calls.append((name, f"{relative}:{node.lineno}"))

    def lineage(name: str) -> list[str]:
        """``name`` and its ancestors, nearest first (classes defined in core only)."""
        line, seen = [name], {name}
        while line[-1] in bases:
            parents = [b for b in bases[line[-1]] if b not in seen]
            if not parents:
                break
            line.append(parents[0])
            seen.add(parents[0])
        return line

    for name, where in bare_calls:
        ancestry = lineage(name)
        if "DomainError" in ancestry:
            code = next(class_codes[c] for c in ancestry if c in class_codes)
            codes.setdefault(code, f"{where} ({name} without code=)")
    for reason in typing.get_args(VideoLinkProblem):
        codes.setdefault(f"video_link_{reason}", "core.amazon.VideoLinkProblem")
    for why in Ineligibility:
        codes.setdefault(why.value, "core.domain.offers.Ineligibility")
    return codes


def test_error_codes_are_found() -> None:
    """The scan finds codes of every kind (so an empty scan cannot pass the next test)."""
    where = raised_error_codes().values()
    assert sum(":" in w and "without code=" not in w for w in where) >= 50  # code="..."
    assert "core.amazon.VideoLinkProblem" in where
    assert "core.domain.offers.Ineligibility" in where


def test_every_error_code_has_a_message() -> None:
    codes = raised_error_codes()
    missing = sorted(
        f"{code}  ({where})" for code, where in codes.items() if code not in ERROR_MESSAGES
    )
    assert not missing, (
        "These error codes have no message in core/conversations/errors.py ERROR_MESSAGES, so "
        "people using another language than English get the English text:\n"
        + "\n".join(f"  {line}" for line in missing)
    )
