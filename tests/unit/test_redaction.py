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
