"""The Cloud API's checks on ``POST /messages`` bodies, as strict as the real one.

Lengths are counted in UTF-16 code units, like the layout planner does (an emoji counts
two): a bot that fits here fits WhatsApp.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import GraphError, invalid, missing, unknown_field
from .records import Template

TEXT_MAX = 4096
BODY_MAX = 1024  # interactive body.text
CAPTION_MAX = 1024
FOOTER_MAX = 60
HEADER_TEXT_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_ID_MAX = 256
REPLY_TITLE_MAX = 20
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_ROW_ID_MAX = 200
LIST_TITLE_MAX = 24
LIST_DESCRIPTION_MAX = 72
SECTION_TITLE_MAX = 24
CTA_TEXT_MAX = 20
TEMPLATE_BODY_MAX = 1024
QUICK_REPLY_PAYLOAD_MAX = 256

TOP_LEVEL = frozenset(
    {"messaging_product", "recipient_type", "to", "type", "context", "biz_opaque_callback_data"}
)
SUPPORTED = frozenset({"text", "image", "video", "document", "interactive", "template"})
_RECIPIENT = re.compile(r"\+?\d{6,15}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_MANY_SPACES = re.compile(r" {5,}")


def length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def validate(body: Any, templates: Mapping[tuple[str, str], Template]) -> Template | None:
    """Refuse ``body`` with the Graph error WhatsApp would give; returns the template used."""
    if not isinstance(body, dict):
        raise unknown_field("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise missing("The parameter messaging_product is required and must be whatsapp.")
    to = body.get("to")
    if not isinstance(to, str) or not to:
        raise missing("The parameter to is required.")
    if not _RECIPIENT.fullmatch(to):
        raise invalid("The parameter to must be a phone number or WhatsApp ID.")
    if body.get("recipient_type", "individual") != "individual":
        raise invalid("recipient_type must be individual.")
    kind = body.get("type", "text")
    if kind not in SUPPORTED:
        raise GraphError(131051, f"Message type {kind!r} is not supported here.")
    extra = set(body) - TOP_LEVEL - {kind}
    if extra:
        raise unknown_field(f"Unexpected key(s) {sorted(extra)} in the message.")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise missing(f"The parameter {kind} is required for a {kind} message.")
    if kind == "text":
        _text(content)
    elif kind == "interactive":
        _interactive(content)
    elif kind == "template":
        return _template(content, templates)
    else:
        _media(kind, content)
    return None


# --- building blocks ----------------------------------------------------------------------


def _keys(where: str, value: dict[str, Any], allowed: set[str]) -> None:
    extra = set(value) - allowed
    if extra:
        raise unknown_field(f"Unexpected key(s) {sorted(extra)} in {where}.")


def _string(where: str, value: Any, limit: int, *, minimum: int = 1) -> str:
    if not isinstance(value, str):
        raise missing(f"{where} is required and must be a string.")
    if length(value) < minimum:
        raise invalid(f"{where} is empty.")
    if length(value) > limit:
        raise invalid(f"{where} is too long. Max length: {limit}, got {length(value)}.")
    return value


def _url(where: str, value: Any) -> None:
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise invalid(f"{where} must be an http(s) URL.")


def _text(content: dict[str, Any]) -> None:
    _keys("text", content, {"body", "preview_url"})
    _string("text.body", content.get("body"), TEXT_MAX)
    if not isinstance(content.get("preview_url", False), bool):
        raise invalid("text.preview_url must be true or false.")


def _media(kind: str, content: dict[str, Any]) -> None:
    allowed = {"link", "id", "caption"} | ({"filename"} if kind == "document" else set())
    _keys(kind, content, allowed)
    if ("link" in content) == ("id" in content):
        raise missing(f"{kind} needs exactly one of link and id.")
    if "link" in content:
        _url(f"{kind}.link", content["link"])
    if "caption" in content:
        _string(f"{kind}.caption", content["caption"], CAPTION_MAX)


# --- interactive messages -----------------------------------------------------------------


def _interactive(content: dict[str, Any]) -> None:
    _keys("interactive", content, {"type", "header", "body", "footer", "action"})
    kind = content.get("type")
    if kind not in ("button", "list", "cta_url"):
        raise invalid(f"interactive.type {kind!r} is not one of button, list, cta_url.")
    body = content.get("body")
    if not isinstance(body, dict):
        raise missing("interactive.body is required.")
    _keys("interactive.body", body, {"text"})
    _string("interactive.body.text", body.get("text"), BODY_MAX)
    if "footer" in content:
        footer = content["footer"]
        if not isinstance(footer, dict):
            raise invalid("interactive.footer must be an object.")
        _string("interactive.footer.text", footer.get("text"), FOOTER_MAX)
    if "header" in content:
        _header(content["header"], kind)
    action = content.get("action")
    if not isinstance(action, dict):
        raise missing("interactive.action is required.")
    if kind == "button":
        _reply_buttons(action)
    elif kind == "list":
        _list(action)
    else:
        _cta_url(action)


def _header(header: Any, kind: str) -> None:
    if not isinstance(header, dict):
        raise invalid("interactive.header must be an object.")
    header_type = header.get("type")
    allowed = ("text",) if kind == "list" else ("text", "image", "video", "document")
    if header_type not in allowed:
        raise invalid(f"A {kind} message header must be one of {list(allowed)}.")
    if header_type == "text":
        _keys("interactive.header", header, {"type", "text"})
        _string("interactive.header.text", header.get("text"), HEADER_TEXT_MAX)
        return
    _keys("interactive.header", header, {"type", header_type})
    media = header.get(header_type)
    if not isinstance(media, dict):
        raise missing(f"interactive.header.{header_type} is required.")
    _media(header_type, media)


def _reply_buttons(action: dict[str, Any]) -> None:
    _keys("interactive.action", action, {"buttons"})
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing("interactive.action.buttons is required.")
    if len(buttons) > REPLY_BUTTONS_MAX:
        raise invalid(f"Too many buttons: at most {REPLY_BUTTONS_MAX}, got {len(buttons)}.")
    ids: set[str] = set()
    titles: set[str] = set()
    for button in buttons:
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise invalid("Each button must be of type reply.")
        _keys("button", button, {"type", "reply"})
        reply = button.get("reply")
        if not isinstance(reply, dict):
            raise missing("button.reply is required.")
        _keys("button.reply", reply, {"id", "title"})
        button_id = _string("Button id", reply.get("id"), REPLY_ID_MAX)
        title = _string("Button title", reply.get("title"), REPLY_TITLE_MAX)
        if button_id in ids:
            raise invalid("Button ids must be unique.")
        if title in titles:
            raise invalid("Button titles must be unique.")
        ids.add(button_id)
        titles.add(title)


def _list(action: dict[str, Any]) -> None:
    _keys("interactive.action", action, {"button", "sections"})
    _string("interactive.action.button", action.get("button"), LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing("interactive.action.sections is required.")
    if len(sections) > LIST_SECTIONS_MAX:
        raise invalid(f"Too many sections: at most {LIST_SECTIONS_MAX}.")
    ids: set[str] = set()
    total = 0
    for section in sections:
        if not isinstance(section, dict):
            raise invalid("Each section must be an object.")
        _keys("section", section, {"title", "rows"})
        if len(sections) > 1 or "title" in section:
            _string("Section title", section.get("title"), SECTION_TITLE_MAX)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise missing("Each section needs at least one row.")
        total += len(rows)
        for row in rows:
            if not isinstance(row, dict):
                raise invalid("Each row must be an object.")
            _keys("row", row, {"id", "title", "description"})
            row_id = _string("Row id", row.get("id"), LIST_ROW_ID_MAX)
            _string("Row title", row.get("title"), LIST_TITLE_MAX)
            if "description" in row:
                _string("Row description", row["description"], LIST_DESCRIPTION_MAX)
            if row_id in ids:
                raise invalid("Row ids must be unique.")
            ids.add(row_id)
    if total > LIST_ROWS_MAX:
        raise invalid(f"Too many rows: at most {LIST_ROWS_MAX} in all sections, got {total}.")


def _cta_url(action: dict[str, Any]) -> None:
    _keys("interactive.action", action, {"name", "parameters"})
    if action.get("name") != "cta_url":
        raise invalid("interactive.action.name must be cta_url.")
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        raise missing("interactive.action.parameters is required.")
    _keys("interactive.action.parameters", parameters, {"display_text", "url"})
    _string("display_text", parameters.get("display_text"), CTA_TEXT_MAX)
    _url("url", parameters.get("url"))


# --- templates ----------------------------------------------------------------------------


def _template(content: dict[str, Any], templates: Mapping[tuple[str, str], Template]) -> Template:
    _keys("template", content, {"name", "language", "components"})
    name = content.get("name")
    language = content.get("language")
    if not isinstance(name, str) or not isinstance(language, dict):
        raise missing("template.name and template.language are required.")
    _keys("template.language", language, {"code", "policy"})
    template = templates.get((name, str(language.get("code"))))
    if template is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {language.get('code')}")
    components = content.get("components", [])
    if not isinstance(components, list):
        raise invalid("template.components must be a list.")
    values: list[str] = []
    for component in components:
        if not isinstance(component, dict):
            raise invalid("Each component must be an object.")
        kind = component.get("type")
        if kind == "body":
            values = _body_parameters(component)
        elif kind == "button":
            _quick_reply(component, template)
        else:
            raise GraphError(132000, f"The template has no {kind} component.")
    if len(values) != template.placeholders:
        raise GraphError(
            132000,
            f"body: number of localizable_params ({len(values)}) does not match the "
            f"expected number of params ({template.placeholders})",
        )
    if length(template.fill(values)) > TEMPLATE_BODY_MAX:
        raise GraphError(132005, "The filled-in template body is over 1024 characters.")
    return template


def _body_parameters(component: dict[str, Any]) -> list[str]:
    _keys("body component", component, {"type", "parameters"})
    values = []
    for parameter in component.get("parameters") or []:
        if not isinstance(parameter, dict) or parameter.get("type") != "text":
            raise invalid("Body parameters must be of type text.")
        text = _string("Body parameter", parameter.get("text"), TEMPLATE_BODY_MAX)
        if "\n" in text or "\t" in text or _MANY_SPACES.search(text):
            raise GraphError(
                132018,
                "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
            )
        values.append(text)
    return values


def _quick_reply(component: dict[str, Any], template: Template) -> None:
    _keys("button component", component, {"type", "sub_type", "index", "parameters"})
    if component.get("sub_type") != "quick_reply":
        raise invalid("Only quick_reply buttons are set up on this template.")
    index = component.get("index")
    if not isinstance(index, str) or not index.isdigit():
        raise invalid('The button index must be a string such as "0".')
    if int(index) >= len(template.buttons):
        raise GraphError(132000, f"The template has no button at index {index}.")
    parameters = component.get("parameters")
    if not isinstance(parameters, list) or len(parameters) != 1:
        raise invalid("A quick reply button takes exactly one payload parameter.")
    parameter = parameters[0]
    if not isinstance(parameter, dict) or parameter.get("type") != "payload":
        raise invalid("A quick reply button parameter must be of type payload.")
    _string("Quick reply payload", parameter.get("payload"), QUICK_REPLY_PAYLOAD_MAX)
