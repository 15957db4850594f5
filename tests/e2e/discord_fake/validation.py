"""Discord's rules for what the bot sends: message bodies, components, modals and slash
commands, with Discord's error codes (50035 Invalid Form Body and friends)."""

from __future__ import annotations

import re
from typing import Any

EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
SETTABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS

CONTENT_MAX = 2000
EMBEDS_MAX = 10
ROWS_MAX = 5
BUTTONS_PER_ROW = 5
LABEL_MAX = 80
CUSTOM_ID_MAX = 100
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
PLACEHOLDER_MAX = 100
COMMANDS_MAX = 100
OPTIONS_MAX = 25
DESCRIPTION_MAX = 100
COMMAND_NAME = re.compile(r"[-_\w]{1,32}")
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)


class ApiError(Exception):
    """An error answer: HTTP status, Discord's JSON error code and message."""

    def __init__(self, status: int, code: int, message: str, detail: str = "") -> None:
        super().__init__(f"{status} {code} {message}{': ' + detail if detail else ''}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.detail:
            data["errors"] = {"_errors": [{"code": "INVALID", "message": self.detail}]}
        return data


def invalid(detail: str) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", detail)


def unknown_interaction() -> ApiError:
    return ApiError(404, 10062, "Unknown interaction")


def already_acknowledged() -> ApiError:
    return ApiError(400, 40060, "Interaction has already been acknowledged.")


def unknown_webhook() -> ApiError:
    return ApiError(404, 10015, "Unknown Webhook")


def unknown_message() -> ApiError:
    return ApiError(404, 10008, "Unknown Message")


def unknown_channel() -> ApiError:
    return ApiError(404, 10003, "Unknown Channel")


def unknown_user() -> ApiError:
    return ApiError(404, 10013, "Unknown User")


def cannot_message_user() -> ApiError:
    return ApiError(403, 50007, "Cannot send messages to this user")


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def _text(value: Any, where: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise invalid(f"{where}: must be a string")
    if not low <= len(value) <= high:
        raise invalid(f"{where}: must be between {low} and {high} in length ({len(value)})")
    return value


# --- messages -------------------------------------------------------------------------------


def check_message(body: Any, *, edit: bool = False, interaction: bool = False) -> None:
    """A message body for create (or ``edit``), as sent to channels, webhooks and
    interaction responses (``interaction`` allows the ephemeral flag)."""
    if not isinstance(body, dict):
        raise invalid("body: must be an object")
    content = body.get("content")
    if content is not None:
        _text(content, "content", 0, CONTENT_MAX)
    embeds = body.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list) or len(embeds) > EMBEDS_MAX:
            raise invalid(f"embeds: at most {EMBEDS_MAX}")
        for index, embed in enumerate(embeds):
            _check_embed(embed, f"embeds.{index}")
    flags = body.get("flags")
    if flags is not None:
        if not isinstance(flags, int) or flags & ~SETTABLE_FLAGS:
            raise invalid(f"flags: {flags!r} cannot be set")
        if flags & EPHEMERAL and not interaction:
            raise invalid("flags: only interaction responses can be ephemeral")
    components = body.get("components")
    if components is not None:
        check_components(components)
    if not edit and not (content or embeds):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _check_embed(embed: Any, where: str) -> None:
    if not isinstance(embed, dict):
        raise invalid(f"{where}: must be an object")
    image = embed.get("image")
    if image is not None:
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise invalid(f"{where}.image.url: Scheme must be one of ('http', 'https')")


def check_components(rows: Any) -> None:
    """Action rows of buttons (and select menus): Discord's limits and unique custom ids."""
    if not isinstance(rows, list) or len(rows) > ROWS_MAX:
        raise invalid(f"components: at most {ROWS_MAX} action rows")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        where = f"components.{r}"
        if not isinstance(row, dict) or row.get("type") != 1:
            raise invalid(f"{where}.type: top-level components must be action rows (type 1)")
        children = row.get("components")
        if not isinstance(children, list) or not 1 <= len(children) <= BUTTONS_PER_ROW:
            raise invalid(f"{where}.components: must hold 1 to {BUTTONS_PER_ROW} components")
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8)]
        if selects and len(children) > 1:
            raise invalid(f"{where}.components: a select menu must be alone in its row")
        for c, child in enumerate(children):
            custom_id = _check_child(child, f"{where}.components.{c}")
            if custom_id is None:
                continue
            if custom_id in seen:
                raise invalid(
                    f"{where}.components.{c}.custom_id: Component custom id cannot be duplicated"
                )
            seen.add(custom_id)


def _check_child(child: Any, where: str) -> str | None:
    if not isinstance(child, dict):
        raise invalid(f"{where}: must be an object")
    kind = child.get("type")
    if kind == 2:
        style = child.get("style")
        if style not in (1, 2, 3, 4, 5):
            raise invalid(f"{where}.style: {style!r} is not a button style")
        if "label" in child:
            _text(child["label"], f"{where}.label", 0, LABEL_MAX)
        elif "emoji" not in child:
            raise invalid(f"{where}: a button needs a label or an emoji")
        if style == 5:
            url = child.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise invalid(f"{where}.url: a link button needs an http(s) url")
            if "custom_id" in child:
                raise invalid(f"{where}.custom_id: a link button cannot have a custom_id")
            return None
        if "url" in child:
            raise invalid(f"{where}.url: only link buttons have a url")
        return _text(child.get("custom_id"), f"{where}.custom_id", 1, CUSTOM_ID_MAX)
    if kind in (3, 5, 6, 7, 8):
        custom_id = _text(child.get("custom_id"), f"{where}.custom_id", 1, CUSTOM_ID_MAX)
        if kind == 3:
            options = child.get("options")
            if not isinstance(options, list) or not 1 <= len(options) <= 25:
                raise invalid(f"{where}.options: must hold 1 to 25 options")
            for o, option in enumerate(options):
                _text(option.get("label"), f"{where}.options.{o}.label", 1, 100)
                _text(option.get("value"), f"{where}.options.{o}.value", 1, 100)
        return custom_id
    raise invalid(f"{where}.type: {kind!r} cannot be in an action row of a message")


# --- modals ---------------------------------------------------------------------------------


def check_modal(data: Any) -> None:
    """The data of a MODAL (type 9) interaction response."""
    if not isinstance(data, dict):
        raise invalid("data: must be an object")
    _text(data.get("custom_id"), "data.custom_id", 1, CUSTOM_ID_MAX)
    _text(data.get("title"), "data.title", 1, MODAL_TITLE_MAX)
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= ROWS_MAX:
        raise invalid(f"data.components: must hold 1 to {ROWS_MAX} components")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        where = f"data.components.{r}"
        if not isinstance(row, dict):
            raise invalid(f"{where}: must be an object")
        if row.get("type") == 1:
            inner = row.get("components")
            if not isinstance(inner, list) or len(inner) != 1:
                raise invalid(f"{where}.components: a modal row holds exactly one text input")
            field, needs_label = inner[0], True
        elif row.get("type") == 18:
            _text(row.get("label"), f"{where}.label", 1, TEXT_INPUT_LABEL_MAX)
            field, needs_label = row.get("component"), False
        else:
            raise invalid(f"{where}.type: a modal holds action rows or labels")
        custom_id = _check_text_input(field, f"{where}.components.0", needs_label=needs_label)
        if custom_id in seen:
            raise invalid(f"{where}: Component custom id cannot be duplicated")
        seen.add(custom_id)


def _check_text_input(field: Any, where: str, *, needs_label: bool) -> str:
    if not isinstance(field, dict) or field.get("type") != 4:
        raise invalid(f"{where}.type: must be a text input (type 4)")
    custom_id = _text(field.get("custom_id"), f"{where}.custom_id", 1, CUSTOM_ID_MAX)
    if field.get("style") not in (1, 2):
        raise invalid(f"{where}.style: must be 1 (short) or 2 (paragraph)")
    if needs_label:
        _text(field.get("label"), f"{where}.label", 1, TEXT_INPUT_LABEL_MAX)
    elif "label" in field:
        raise invalid(f"{where}.label: a text input inside a label has no label of its own")
    low = field.get("min_length", 0)
    high = field.get("max_length", TEXT_INPUT_VALUE_MAX)
    if not isinstance(low, int) or not 0 <= low <= TEXT_INPUT_VALUE_MAX:
        raise invalid(f"{where}.min_length: must be 0 to {TEXT_INPUT_VALUE_MAX}")
    if not isinstance(high, int) or not 1 <= high <= TEXT_INPUT_VALUE_MAX or high < low:
        raise invalid(f"{where}.max_length: must be 1 to {TEXT_INPUT_VALUE_MAX}, >= min_length")
    if field.get("placeholder") is not None:
        _text(field["placeholder"], f"{where}.placeholder", 0, PLACEHOLDER_MAX)
    if field.get("value") is not None:
        _text(field["value"], f"{where}.value", 0, high)
    return custom_id


# --- application commands -------------------------------------------------------------------


def check_commands(commands: Any) -> None:
    """A bulk overwrite of chat-input (slash) commands."""
    if not isinstance(commands, list) or len(commands) > COMMANDS_MAX:
        raise invalid(f"body: at most {COMMANDS_MAX} commands")
    names: set[str] = set()
    for index, command in enumerate(commands):
        where = str(index)
        if not isinstance(command, dict):
            raise invalid(f"{where}: must be an object")
        if command.get("type", 1) != 1:
            raise invalid(f"{where}.type: only chat input commands are expected here")
        name = _command_name(command.get("name"), f"{where}.name")
        if name in names:
            raise invalid(f"{where}.name: Application command names must be unique")
        names.add(name)
        _text(command.get("description"), f"{where}.description", 1, DESCRIPTION_MAX)
        _check_localizations(command, where)
        options = command.get("options") or []
        if not isinstance(options, list) or len(options) > OPTIONS_MAX:
            raise invalid(f"{where}.options: at most {OPTIONS_MAX}")
        optional_seen = False
        option_names: set[str] = set()
        for o, option in enumerate(options):
            at = f"{where}.options.{o}"
            if not isinstance(option, dict) or option.get("type") not in range(3, 12):
                raise invalid(f"{at}.type: must be a value option (3 to 11)")
            option_name = _command_name(option.get("name"), f"{at}.name")
            if option_name in option_names:
                raise invalid(f"{at}.name: option names must be unique")
            option_names.add(option_name)
            _text(option.get("description"), f"{at}.description", 1, DESCRIPTION_MAX)
            _check_localizations(option, at)
            if option.get("required"):
                if optional_seen:
                    raise invalid(
                        f"{at}.required: Required options must be placed before "
                        "non-required options"
                    )
            else:
                optional_seen = True


def _command_name(name: Any, where: str) -> str:
    text = _text(name, where, 1, 32)
    if not COMMAND_NAME.fullmatch(text) or text != text.lower():
        raise invalid(f"{where}: Command name is invalid ({text!r})")
    return text


def _check_localizations(item: dict[str, Any], where: str) -> None:
    for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
        found = item.get(key) or {}
        if not isinstance(found, dict):
            raise invalid(f"{where}.{key}: must be an object")
        for locale, value in found.items():
            if locale not in LOCALES:
                raise invalid(f"{where}.{key}.{locale}: Invalid locale")
            _text(value, f"{where}.{key}.{locale}", 1, limit)
