"""English and German with Babel: the catalogue is read from its .po file at start-up (no build
step), the language follows the browser's Accept-Language unless the visitor chose one."""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path

from babel.core import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from cpniguard.calendar import EASTERN

LANGUAGES = ("en", "de")
LOCALES = Path(__file__).parent / "locale"


@functools.cache
def translations(language: str) -> NullTranslations:
    """Every .po file of the language, merged (one per part of the site)."""
    files = sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")) if language != "en" else []
    if not files:
        return NullTranslations()
    merged: Translations | None = None
    for po in files:
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        merged = part if merged is None else merged.merge(part)
    assert merged is not None
    return merged


def choose(chosen: str | None, accept_language: str | None) -> str:
    """The visitor's choice (the `lang` cookie), else the best match of Accept-Language."""
    if chosen in LANGUAGES:
        return str(chosen)
    preferred = []
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag and tag != "*":
            preferred.append(tag)
    found = negotiate_locale(preferred, ["en", "de", "en_US", "de_DE"], sep="_") if preferred else None
    return str(found)[:2] if found else "en"


def when(value: object, language: str) -> str:
    """A moment or a date as the language writes it (times in Eastern time)."""
    locale = Locale.parse(language)
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(EASTERN), "medium", tzinfo=EASTERN, locale=locale)
    if isinstance(value, date):
        return format_date(value, "medium", locale=locale)
    return "" if value is None else str(value)
