"""House rule 9: personal data is masked in log lines."""

from __future__ import annotations

import logging

import pytest

from cpniguard.redaction import RedactingFilter, redact


def test_numbers_emails_and_api_keys_are_masked() -> None:
    line = redact("call +12025550123 or mail ada.lovelace@example.com with cpg_abcdefghijklmnop")
    assert "2025550123" not in line and "lovelace" not in line and "abcdefgh" not in line
    assert "+*********23" in line and "a***@example.com" in line


def test_the_filter_masks_arguments_of_any_logger(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("some.library")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("customer %s at %s", "+4930123456789", "kunde@example.de")
    assert "30123456789" not in caplog.text and "kunde@" not in caplog.text


def test_the_filter_masks_tracebacks_and_stacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("some.library")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO):
            try:
                raise ValueError("[SQL: INSERT INTO contacts VALUES (?)]\n[parameters: ('+12025550123',)]")
            except ValueError:
                logger.exception("insert failed", stack_info=True)
            logger.info("secret=%s for %s", "hunter22", "imap://ada:pass1234@mail.example/INBOX")
    finally:
        logger.filters.clear()
    assert "Traceback" in caplog.text and "[parameters: redacted]" in caplog.text
    assert "Stack (most recent call last)" in caplog.text
    for raw in ("2025550123", "hunter22", "pass1234"):
        assert raw not in caplog.text
    assert caplog.records[0].exc_info is None  # no later handler can render the raw exception


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Key (value)=(Ada Lovelace) already exists.", "Key (value)=(redacted) already exists."),
        ("Failing row contains (7, Ada, 62701).", "Failing row contains (redacted)."),
        ("input_value='a blue bicycle', input_type=str", "input_value=[redacted], input_type=str"),
        ('{"password": "hunter22", "pin": 7391}', '{"password": [redacted], "pin": [redacted]}'),
        ("Authorization: Bearer abcdef123456", "Authorization: Bearer [redacted]"),
        ("hash $argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA ok", "hash $argon2[redacted] ok"),
    ],
)
def test_values_that_exception_texts_and_payloads_carry_are_masked(raw: str, masked: str) -> None:
    assert redact(raw) == masked
    assert redact(masked) == masked
