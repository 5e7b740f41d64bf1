"""The scanner of the e2e run's log (tests/log_scan.py) finds what it is there to find."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from cpniguard.redaction import logging_config, redact
from tests.log_scan import Sentinels, find_leaks, report

PIN = "482913"
UNMASKED = {
    "telephone number": "notice queued for +12025550123",
    "email address": "delivery to ada.lovelace@example.com failed",
    "API key": "key cpg_Zq3xW9vLmN2pR7sT accepted",
    "argon2 hash": "stored $argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g for the PIN",
    "SQL parameters": "[SQL: INSERT INTO contacts (value) VALUES (?)]\n[parameters: ('ada@x',)]",
    "row values": "DETAIL:  Failing row contains (7, Ada Lovelace, null).",
    "rejected input": "1 validation error: input_value='a blue bicycle', input_type=str",
    "named secret": "verify called with password='hunter22'",
    "password in a URL": "connecting to imap://demouser:demopass@127.0.0.1:993/INBOX",
    "bearer token": "header Authorization: Bearer s3cr3tT0kenValue",
}


def sentinels(**values: str) -> Sentinels:
    registered = Sentinels()
    for kind, value in values.items():
        registered.add(kind, value)
    return registered


@pytest.mark.parametrize("kind", UNMASKED)
def test_a_planted_line_of_unmasked_data_is_found_and_its_masked_form_is_not(kind: str) -> None:
    line = UNMASKED[kind]
    assert any(kind in f.kinds for f in find_leaks(line.splitlines(), Sentinels()))
    assert find_leaks(redact(line).splitlines(), Sentinels()) == []


def test_a_registered_pin_is_found_and_the_failure_message_does_not_quote_it() -> None:
    lines = ["2026-03-02 15:00:00,123 INFO cpniguard.api: ok", f"2026-03-02 15:00:00,124 DEBUG x: tried {PIN}"]
    [finding] = find_leaks(lines, sentinels(secret=PIN))
    assert (finding.line_number, finding.kinds) == (2, ("secret",))
    message = report(Path("run.log"), [finding])
    assert "run.log:2: secret:" in message and "tried [secret]" in message and PIN not in message


def test_a_value_inside_a_longer_number_or_word_is_not_a_match() -> None:
    lines = [
        f"2026-03-02 15:00:00.{PIN} lease until",  # microseconds
        f"connected to 127.0.0.1:{PIN}",  # a port
        f"message id a{PIN}b",
        "notice 3f2a9c1e-7391-4abc-8def-0123456789ab sent",  # a random id's group
        "2026-03-02 07:39:10,000 INFO x: 2026-7391-1",
        "to Ada Lovelacey",
    ]
    assert find_leaks(lines, sentinels(secret=PIN, pin="7391", name="Ada Lovelace")) == []


def test_made_up_and_uniform_values_are_not_registered() -> None:
    registered = sentinels(pin="0000", short="abc")
    registered.registering = False  # a test that draws its input with Hypothesis
    registered.add("secret", "docs-assets")
    assert registered.values == {}


def test_names_and_numbers_are_found_whatever_their_case_or_format() -> None:
    registered = sentinels(name="Ada Lovelace", contact="+12025550123")
    lines = ["customer ADA LOVELACE signed in", "number 2025550123 searched", "dialled 12025550123."]
    assert [f.line_number for f in find_leaks(lines, registered)] == [1, 2, 3]


def test_the_production_handler_masks_what_the_scanner_would_find() -> None:
    """The same record through a bare handler leaks, through production's handler it does not."""
    config = logging_config()
    bare, masked = io.StringIO(), io.StringIO()
    logger = logging.getLogger("tests.planted")
    logger.propagate = False
    for stream, filtered in ((bare, False), (masked, True)):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(config["formatters"]["plain"]["format"]))
        if filtered:
            handler.addFilter(config["filters"]["redact"]["()"]())
        logger.addHandler(handler)
    try:
        raise ValueError("no account for ada.lovelace@example.com at +12025550123")
    except ValueError:
        logger.exception("verification failed for %s", "+12025550123")
    finally:
        logger.handlers.clear()
    registered = sentinels(contact="+12025550123")
    leaked = {kind for f in find_leaks(bare.getvalue().splitlines(), registered) for kind in f.kinds}
    assert leaked == {"contact", "telephone number", "email address"}
    assert "Traceback" in masked.getvalue() and "ValueError: no account for a***@example.com" in masked.getvalue()
    assert find_leaks(masked.getvalue().splitlines(), registered) == []
