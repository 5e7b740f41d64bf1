"""Personal data never reaches a log raw (house rule 9): a logging filter masks telephone
numbers, email addresses and secrets in every record, whichever library wrote it."""

from __future__ import annotations

import logging
import re
from typing import Any

PHONE = re.compile(r"\+\d[\d ()-]{6,18}\d")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
API_KEY = re.compile(r"cpg_[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """Keeps just enough to tell records apart: the last two digits, the first letter."""
    text = API_KEY.sub("cpg_[redacted]", text)
    text = PHONE.sub(lambda m: "+" + "*" * (len(re.sub(r"\D", "", m.group())) - 2) + m.group()[-2:], text)
    return EMAIL.sub(r"\1***@\2", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), ()
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for uvicorn and cpniguard with the redacting filter on every handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "cpniguard": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }
