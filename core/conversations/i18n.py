"""Languages: gettext catalogues under ``locales/``, one per language.

Adding a language is adding a catalogue: ``locales/<code>/LC_MESSAGES/messages.po``, compiled
to ``messages.mo`` (``pybabel compile -d core/conversations/locales -D messages``). Message
ids are English sentences with ``{name}`` placeholders.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; translate it where it is shown."""
    return message


class Translator:
    """Translate message ids into one language, filling ``{placeholders}``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._catalogue = gettext.translation(DOMAIN, LOCALE_DIR, [self.language], fallback=True)

    def __call__(self, message: str, /, **params: object) -> str:
        text = self._catalogue.gettext(message)
        return text.format(**params) if params else text

    def raw(self, message: str) -> str:
        """The translation with its placeholders left in."""
        return self._catalogue.gettext(message)

    def plural(self, singular: str, plural: str, count: int, /, **params: object) -> str:
        text = self._catalogue.ngettext(singular, plural, count)
        return text.format(count=count, **params)


@cache
def translator(language: str) -> Translator:
    return Translator(language)
