"""Personal data never reaches a log raw (house rule 9): a logging filter masks telephone
numbers, email addresses and secrets in every record, whichever library wrote it, in its
message, its traceback and its stack."""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

PHONE = re.compile(r"\+\d[\d ()-]{6,18}\d")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
API_KEY = re.compile(r"cpg_[A-Za-z0-9_-]{8,}")
ARGON2_HASH = re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9$=,+/.]+")
# Values that exception texts carry: SQLAlchemy's bound parameters, PostgreSQL's DETAIL of a
# violated constraint (the key's value, the whole failing row), pydantic's rejected input.
SQL_PARAMETERS = re.compile(r"\[parameters: .*")
ROW_VALUES = re.compile(r"(Failing row contains |Key \([^)\n]*\)=)\(.*\)")
INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|$)", re.MULTILINE)
# A secret written as `name=value` or `name: value`, in a URL's user part or an HTTP header.
NAMED_SECRET = re.compile(
    r"(?i)(\b(?:password|passwd|secret|token|api[_-]?key|pin|backup[_ -]?answer|csrf|cookie)"
    r"""["']?\s*[=:]\s*)(?!\[redacted\])("[^"\n]*"|'[^'\n]*'|[^\s"',;&)\]}]+)"""
)
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.IGNORECASE)
BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")

_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    """Keeps just enough to tell records apart: the last two digits, the first letter."""
    text = API_KEY.sub("cpg_[redacted]", text)
    text = ARGON2_HASH.sub("$argon2[redacted]", text)
    text = SQL_PARAMETERS.sub("[parameters: redacted]", text)
    text = ROW_VALUES.sub(r"\1(redacted)", text)
    text = INPUT_VALUE.sub("input_value=[redacted]", text)
    text = URL_PASSWORD.sub(r"\1[redacted]@", text)
    text = BEARER.sub(r"\1 [redacted]", text)
    text = NAMED_SECRET.sub(r"\1[redacted]", text)
    text = PHONE.sub(lambda m: "+" + "*" * (len(re.sub(r"\D", "", m.group())) - 2) + m.group()[-2:], text)
    return EMAIL.sub(r"\1***@\2", text)


class RedactingFilter(logging.Filter):
    """Rewrites the record in place, so that every handler after it sees the masked text. An
    exception's message (a driver error with the values it choked on) and the stack count as
    much as the message: they are rendered here, masked, and the exception object dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig with one redacting handler, on the root: every library's records pass
    through it (uvicorn, cpniguard, SQLAlchemy's warnings, httpx, the SMTP listener)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": "WARNING"},  # paths name customers; the ledger records uses
            "cpniguard": {"level": level},
            # aiosmtpd logs each SMTP command at INFO and each line of a message at DEBUG: the
            # replies customers send to the opt-out listener, whatever level the rest runs at.
            "mail.log": {"level": "WARNING"},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """For every command (`cpniguard serve` has uvicorn apply the same configuration). Like
    `logging.basicConfig`, it leaves alone a root logger that the program running the command
    in-process has given handlers already."""
    if not logging.getLogger().handlers:
        logging.config.dictConfig(logging_config(level))
