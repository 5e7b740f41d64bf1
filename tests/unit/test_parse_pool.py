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


def answers(text: str, jobs: int, parse: object = number, refuse: int | None = None) -> list[object]:
    """What the writer sees: the (line, key) pairs its check gets, then the refusal, if any."""
    reader = csv.reader(io.StringIO(text))
    out: list[object] = []

    def check(chunk: list[tuple[int, int]]) -> None:
        for line, key in chunk:
            if key == refuse:
                raise InvalidInput(f"f.csv, line {line}: {key} is stored already")
            out.append((line, key))

    steps = parse_pool.Steps(parse, parse_pool.whole)
    source = parse_pool.chunks(reader, iter(reader), "f.csv", size=3)
    try:
        for keys, payload in parse_pool.prepared(source, steps, check, jobs):  # type: ignore[arg-type]
            assert keys == payload == [key for _, key in out[len(out) - len(keys) :]]
    except InvalidInput as exc:
        out.append(str(exc))
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


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_database_s_refusal_of_an_earlier_line_comes_before_a_later_bad_line(jobs: int) -> None:
    # Line 2 is stored already (the check says so), line 4 is not a number: line 2 is named.
    assert answers("1\n2\n3\nx\n", jobs, refuse=2) == [(1, 1), "f.csv, line 2: 2 is stored already"]
    assert answers("1\n2\nx\n", jobs, refuse=2) == [(1, 1), "f.csv, line 2: 2 is stored already"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_chunk_is_checked_before_it_is_handed_on(jobs: int) -> None:
    reader = csv.reader(io.StringIO("".join(f"{i}\n" for i in range(7))))
    seen: list[str] = []
    steps = parse_pool.Steps(number, parse_pool.whole)
    source = parse_pool.chunks(reader, iter(reader), "f.csv", size=3)
    for keys, _ in parse_pool.prepared(source, steps, lambda c: seen.append(f"check {[k for _, k in c]}"), jobs):
        seen.append(f"write {keys}")
    assert seen == [
        "check [0, 1, 2]",
        "write [0, 1, 2]",
        "check [3, 4, 5]",
        "write [3, 4, 5]",
        "check [6]",
        "write [6]",
    ]
