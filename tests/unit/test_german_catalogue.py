"""Every text the console and the portal show is in the German catalogue: the strings marked
for translation in the templates and in the web package's code are extracted with Babel (as
`pybabel extract` would) and each must be a msgid of one of the German .po files. A new page
text without German fails here, not in front of a German customer."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from cpniguard.web import i18n

WEB = Path(i18n.__file__).parent
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def marked_texts() -> list[tuple[str, int, str]]:
    found = []
    for filename, line, message, _, _ in extract_from_dir(WEB, METHODS, OPTIONS, KEYWORDS):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.append((filename, line, text))
    return found


def test_every_marked_text_of_the_pages_has_a_german_translation() -> None:
    catalogue = i18n.translations("de")._catalog  # type: ignore[attr-defined]
    texts = marked_texts()
    assert len(texts) > 300, "the extraction found the pages' texts"
    missing = [f"{name}:{line}: {text!r}" for name, line, text in texts if text not in catalogue]
    assert missing == [], "texts without German:\n" + "\n".join(missing)


def test_every_german_translation_is_filled_in() -> None:
    catalogue = i18n.translations("de")._catalog  # type: ignore[attr-defined]
    empty = [key for key, value in catalogue.items() if key and not value]
    assert empty == []
