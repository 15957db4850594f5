"""The few words the Discord adapter says itself (everything else comes from the core's
catalogues), in the languages the core speaks."""

from __future__ import annotations

from typing import Final

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "not_yours": {
        "en": "These buttons belong to someone else. Use /start to get your own.",
        "zh": "这些按钮属于别人。发送 /start 获取你自己的菜单。",
    },
    "failed": {
        "en": "Something went wrong on our side. Please try again in a moment.",
        "zh": "我们这边出了点问题，请稍后再试。",
    },
}

#: Option descriptions of the slash commands that take arguments.
OPTION_DESCRIPTIONS: Final[dict[str, str]] = {
    "code": "The code /link showed you in your other chat app",
    "creator": "The creator number, shown as #123 on the creator's profile",
    "seller": "The seller number",
    "account": "The chat account to add, e.g. discord:123456789012345678",
}


def text(key: str, locale: str | None) -> str:
    """``key`` in the language of a Discord locale such as ``en-US`` or ``zh-CN``."""
    language = (locale or "en").lower().split("-")[0]
    texts = _TEXTS[key]
    return texts.get(language, texts["en"])
