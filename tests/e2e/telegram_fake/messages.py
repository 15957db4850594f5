"""The methods that send, edit and delete messages, with Telegram's checks and error texts."""

from __future__ import annotations

import mimetypes
import re
import time
from typing import Any

from . import markup
from .errors import bad_request
from .formatting import FormattedText, format_text, utf16_len
from .params import Params, UploadedFile
from .records import BotMessage, StoredFile
from .state import Chat, TelegramState

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_SOURCE_BYTES = 1 << 15
_MEDIA_URL = re.compile(r"https?://[^\s/]+\S*", re.IGNORECASE)
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_SEND_FLAGS = ("disable_notification", "protect_content", "allow_paid_broadcast")


def _check_send_flags(params: Params) -> None:
    for name in _SEND_FLAGS:
        params.boolean(name)
    params.integer("message_thread_id")


def _formatted(params: Params, name: str, entities_name: str) -> FormattedText:
    source = params.string(name) or ""
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise bad_request("text is too long")
    return format_text(source, params.string("parse_mode"), params.json(entities_name, "entities"))


def _markup(params: Params) -> dict[str, Any] | None:
    return markup.reply_markup(params.json("reply_markup", "reply keyboard markup"))


def _link_preview_disabled(params: Params) -> bool:
    options = params.json("link_preview_options", "link preview options")
    if options is None:
        return params.boolean("disable_web_page_preview")
    if not isinstance(options, dict):
        raise bad_request("object expected as link preview options")
    disabled = options.get("is_disabled", False)
    if not isinstance(disabled, bool):
        raise bad_request('field "is_disabled" must be of type Boolean')
    return disabled


def _reply_target(chat: Chat, params: Params) -> int | None:
    """The message a new one answers, checked to exist as Telegram does."""
    reply = params.json("reply_parameters", "reply parameters")
    if reply is not None:
        if not isinstance(reply, dict):
            raise bad_request("object expected as reply parameters")
        if not reply:
            return None
        if "message_id" not in reply:
            raise bad_request('can\'t find field "message_id"')
        message_id = reply["message_id"]
        if isinstance(message_id, bool) or not isinstance(message_id, int | str):
            raise bad_request('field "message_id" must be a Number')
        if not re.fullmatch(r"-?\d+", str(message_id)):
            raise bad_request('field "message_id" must be a valid Number')
        allow_without = reply.get("allow_sending_without_reply", False)
        if not isinstance(allow_without, bool):
            raise bad_request('field "allow_sending_without_reply" must be of type Boolean')
        target = int(message_id)
    else:
        target = params.integer("reply_to_message_id") or 0
        allow_without = params.boolean("allow_sending_without_reply")
    if target <= 0:
        return None
    if chat.has_message(target):
        return target
    if allow_without:
        return None
    raise bad_request("message to be replied not found")


def _message_text(params: Params) -> FormattedText:
    formatted = _formatted(params, "text", "entities")
    if not formatted.text:
        raise bad_request("message text is empty")
    return formatted


async def send_message(state: TelegramState, params: Params) -> dict[str, Any]:
    formatted = _message_text(params)
    reply_markup = _markup(params)
    link_preview_disabled = _link_preview_disabled(params)
    _check_send_flags(params)
    chat = state.chat_for(params, sending=True)
    reply_to = _reply_target(chat, params)
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    message = state.add_bot_message(
        chat,
        kind="text",
        text=formatted.text,
        caption=None,
        source=params.string("text") or "",
        parse_mode=params.string("parse_mode"),
        entities=formatted.entities,
        reply_markup=reply_markup,
        reply_to_message_id=reply_to,
        link_preview_disabled=link_preview_disabled,
    )
    return state.message_json(message)


async def send_photo(state: TelegramState, params: Params) -> dict[str, Any]:
    return await _send_media(state, params, "photo")


async def send_video(state: TelegramState, params: Params) -> dict[str, Any]:
    return await _send_media(state, params, "video")


async def send_document(state: TelegramState, params: Params) -> dict[str, Any]:
    return await _send_media(state, params, "document")


async def _send_media(state: TelegramState, params: Params, kind: str) -> dict[str, Any]:
    caption = _formatted(params, "caption", "caption_entities")
    if utf16_len(caption.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    reply_markup = _markup(params)
    _check_send_flags(params)
    params.boolean("has_spoiler")
    chat = state.chat_for(params, sending=True)
    reply_to = _reply_target(chat, params)
    stored = _input_file(state, params, kind)
    message = state.add_bot_message(
        chat,
        kind=kind,
        text=None,
        caption=caption.text,
        source=params.string("caption") or "",
        parse_mode=params.string("parse_mode"),
        entities=caption.entities,
        reply_markup=reply_markup,
        file_id=stored.file_id,
        reply_to_message_id=reply_to,
    )
    return state.message_json(message)


def _input_file(state: TelegramState, params: Params, kind: str) -> StoredFile:
    """The file a send names: an upload, ``attach://``, a known file_id or an HTTP URL."""
    upload = params.file(kind)
    value = params.string(kind)
    if upload is None and value is not None and value.startswith("attach://"):
        upload = params.file(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"there is no {kind} in the request")
    if upload is not None:
        return _stored_upload(state, upload, kind)
    if value is None:
        raise bad_request(f"there is no {kind} in the request")
    if value in state.files:
        known = state.files[value]
        if known.kind != kind:
            raise bad_request("type of file mismatch")
        return known
    if _MEDIA_URL.fullmatch(value):
        name = value.rstrip("/").rsplit("/", 1)[-1] or kind
        return state.add_file(kind, b"", file_name=name, mime_type=mimetypes.guess_type(name)[0])
    raise bad_request("wrong file identifier/HTTP URL specified")


def _stored_upload(state: TelegramState, upload: UploadedFile, kind: str) -> StoredFile:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if kind == "photo":
        is_webp = upload.data[:4] == b"RIFF" and upload.data[8:12] == b"WEBP"
        if not (is_webp or upload.data.startswith(_IMAGE_MAGIC)):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return state.add_file("photo", upload.data, width=320, height=320)
    mime_type = upload.content_type
    if mime_type in ("", "application/octet-stream"):
        mime_type = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
    if kind == "video":
        return state.add_file(
            "video", upload.data, mime_type=mime_type, width=640, height=360, duration=1
        )
    return state.add_file("document", upload.data, file_name=upload.filename, mime_type=mime_type)


# --- edits and deletions -----------------------------------------------------------------


def _message_to_edit(state: TelegramState, params: Params) -> BotMessage:
    if params.has("inline_message_id"):
        raise bad_request("inline_message_id is not supported by this fake; use chat_id")
    chat = state.chat_for(params, sending=False)
    message_id = params.integer("message_id") or 0
    message = chat.bot_messages.get(message_id)
    if message is not None and not message.deleted:
        return message
    if chat.has_message(message_id):
        raise bad_request("message can't be edited")
    raise bad_request("message to edit not found")


def _apply_edit(
    state: TelegramState, message: BotMessage, changes: dict[str, Any]
) -> dict[str, Any]:
    if all(getattr(message, name) == value for name, value in changes.items()):
        raise bad_request(_NOT_MODIFIED)
    message.edits.append(message.snapshot(time.monotonic()))
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = int(time.time())
    state.touch(message)
    return state.message_json(message)


async def edit_message_text(state: TelegramState, params: Params) -> dict[str, Any]:
    formatted = _message_text(params)
    reply_markup = _markup(params)
    link_preview_disabled = _link_preview_disabled(params)
    message = _message_to_edit(state, params)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    # Without reply_markup an edit takes the inline keyboard away, as in Telegram.
    changes = {
        "text": formatted.text,
        "entities": formatted.entities,
        "reply_markup": reply_markup,
    }
    result = _apply_edit(state, message, changes)
    message.source = params.string("text") or ""
    message.parse_mode = params.string("parse_mode")
    message.link_preview_disabled = link_preview_disabled
    return result


async def edit_message_caption(state: TelegramState, params: Params) -> dict[str, Any]:
    caption = _formatted(params, "caption", "caption_entities")
    if utf16_len(caption.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    reply_markup = _markup(params)
    message = _message_to_edit(state, params)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    changes = {"caption": caption.text, "entities": caption.entities, "reply_markup": reply_markup}
    result = _apply_edit(state, message, changes)
    message.source = params.string("caption") or ""
    message.parse_mode = params.string("parse_mode")
    return result


async def edit_message_reply_markup(state: TelegramState, params: Params) -> dict[str, Any]:
    reply_markup = _markup(params)
    if reply_markup is not None and "inline_keyboard" not in reply_markup:
        raise bad_request("inline keyboard expected")
    message = _message_to_edit(state, params)
    return _apply_edit(state, message, {"reply_markup": reply_markup})


async def delete_message(state: TelegramState, params: Params) -> bool:
    chat = state.chat_for(params, sending=False)
    message_id = params.integer("message_id") or 0
    if not chat.has_message(message_id):
        raise bad_request("message to delete not found")
    message = chat.bot_messages.get(message_id)
    if message is not None:
        message.deleted = True
        state.touch(message)
    else:
        chat.deleted_user_messages.add(message_id)
    return True


async def send_chat_action(state: TelegramState, params: Params) -> bool:
    action = (params.string("action") or "").lower()
    actions = {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
    if action not in actions:
        raise bad_request("wrong parameter action in request")
    chat = state.chat_for(params, sending=True)
    state.chat_actions.append((chat.id, action))
    return True
