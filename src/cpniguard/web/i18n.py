"""English and German with Babel: the catalogue is read from its .po file at start-up (no build
step), the language follows the browser's Accept-Language unless the visitor chose one.

A refusal from the domain is one English line, often with details in it ("unknown customer:
...", an email validator's own words). `reason` finds its German: the catalogue's exact words
for a fixed text, else the first pattern of the catalogue that matches it whole. A pattern is
a msgid with `{name}` placeholders (reasons.po), each standing for a detail that is carried
over into the msgstr, itself translated when the catalogue has words for it.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel.core import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from cpniguard.calendar import EASTERN

LANGUAGES = ("en", "de")
LOCALES = Path(__file__).parent / "locale"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@functools.cache
def catalogs(language: str) -> tuple[Catalog, ...]:
    """Every .po file of the language (one per part of the site), in the order of their names."""
    files = sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")) if language != "en" else []
    found = []
    for po in files:
        with po.open("rb") as source:
            found.append(read_po(source, locale=language))
    return tuple(found)


@functools.cache
def translations(language: str) -> NullTranslations:
    """Every .po file of the language, merged."""
    if not catalogs(language):
        return NullTranslations()
    merged: Translations | None = None
    for catalog in catalogs(language):
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


@dataclass(frozen=True, slots=True)
class ReasonPattern:
    """A refusal with details, as the catalogue words it in English and in the language."""

    msgid: str
    msgstr: str
    regex: re.Pattern[str]


def compile_pattern(msgid: str) -> re.Pattern[str]:
    """Each `{name}` becomes a non-greedy group of that name, the rest is literal; the whole
    text must match. A msgid of placeholders alone is refused: it would match everything."""
    parts = PLACEHOLDER.split(msgid)
    if not "".join(parts[0::2]):
        raise ValueError(f"a reason pattern needs some literal text: {msgid!r}")
    body = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(rf"\A{body}\Z", re.DOTALL)


@functools.cache
def reason_patterns(language: str) -> tuple[ReasonPattern, ...]:
    """The msgids with placeholders in the language's catalogues, in catalogue order (so a
    more specific pattern is written before a more general one)."""
    found = []
    for catalog in catalogs(language):
        for message in catalog:
            text = message.id
            if isinstance(text, str) and message.string and not message.fuzzy and PLACEHOLDER.search(text):
                found.append(ReasonPattern(text, str(message.string), compile_pattern(text)))
    return tuple(found)


def reason(text: str, language: str) -> str:
    """A domain refusal in the language: the exact translation, else the first matching
    pattern's words with the details filled in (each translated in turn where the catalogue
    can), else the English unchanged."""
    if not text:  # gettext("") answers the catalogue's header
        return text
    exact = translations(language).gettext(text)
    if exact != text:
        return exact
    for pattern in reason_patterns(language):
        found = pattern.regex.match(text)
        if found is not None:
            # Each detail is shorter than the text (a pattern has literal text), so this ends.
            return _filled(pattern.msgstr, {name: reason(value, language) for name, value in found.groupdict().items()})
    return text


def _filled(msgstr: str, details: dict[str, str]) -> str:
    """The placeholders replaced, not `str.format`: a detail may hold braces of its own."""
    return PLACEHOLDER.sub(lambda m: details.get(m.group(1), m.group(0)), msgstr)
