"""jobs/parse_pool.py: records in file order, the first refusal of the file, the same answers
with workers as without, and a killed worker as a clear refusal (issue 7)."""

from __future__ import annotations

import csv
import io
import os

import pytest

from cpniguard.errors import InvalidInput, WorkInterrupted
from cpniguard.jobs import parse_pool


def number(values: list[str]) -> int:
    if not values[0].isdigit():
        raise InvalidInput(f"not a number: {values[0]!r}")
    return int(values[0])


def die_at_13(values: list[str]) -> int:
    if values[0] == "13":
        os._exit(9)  # a worker killed mid-chunk
    return int(values[0])


def answers(text: str, jobs: int, parse: object = number) -> list[object]:
    reader = csv.reader(io.StringIO(text))
    out: list[object] = []
    for item in parse_pool.parsed(parse_pool.chunks(reader, iter(reader), "f.csv", size=3), parse, jobs):  # type: ignore[arg-type]
        out.append(str(item) if isinstance(item, InvalidInput) else item)
        if isinstance(item, InvalidInput):
            break
    return out


@pytest.mark.parametrize(
    "text",
    [
        "".join(f"{i}\n" for i in range(20)),
        "1\n\n2\n3\nx\n5\ny\n",  # a blank line, then two bad ones: the first is named
        "1\n2\n3\n4\n5\n6\nz\n",  # the bad line opens a chunk
        "",
    ],
)
def test_workers_give_the_same_records_and_the_same_first_refusal(text: str) -> None:
    assert answers(text, 2) == answers(text, 1)


def test_the_refusal_names_the_file_and_line() -> None:
    assert answers("1\n\n2\nx\n", 2)[-1] == "f.csv, line 4: not a number: 'x'"


def test_a_killed_worker_is_a_clear_refusal_not_a_traceback() -> None:
    with pytest.raises(WorkInterrupted, match="nothing was imported"):
        answers("".join(f"{i}\n" for i in range(30)), 2, die_at_13)
