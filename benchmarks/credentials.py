"""credentials.argon2.*: what one PIN verification costs, on purpose.

argon2id makes every guess at a stolen hash expensive; the price is paid on every honest
verification too. Here ``Argon2SecretHasher.verify`` of a correct PIN is timed with the
project's configured parameters (``Settings``: argon2_time_cost, argon2_memory_kib,
argon2_parallelism) beside OWASP's recommended minimum (19 MiB, t=2, p=1) on this machine; the
configured cost must not be below OWASP's. The dummy verification for an unknown customer
(AUTH-1: no account probing through timing) must cost about as much as a real one. Contenders
take turns, so drift hits all alike; medians are reported.
"""

from __future__ import annotations

import statistics
from functools import partial

from benchmarks.common import Options, Result, interleaved, noise, rounded, say
from cpniguard.auth.hashing import OWASP_MEMORY_KIB, OWASP_PARALLELISM, OWASP_TIME_COST, Argon2SecretHasher
from cpniguard.settings import Settings

PIN = "482916"
WRONG_PIN = "482917"
DUMMY_LOW, DUMMY_HIGH = 0.8, 1.25


def checked(hasher: Argon2SecretHasher, stored: str) -> str | None:
    """What is wrong with the hasher's answers (None when right)."""
    if not hasher.verify(stored, PIN):
        return "the correct PIN was refused"
    if hasher.verify(stored, WRONG_PIN):
        return "a wrong PIN was accepted"
    if hasher.dummy_verify(PIN):
        return "a dummy verification said yes"
    return None


def run(options: Options) -> list[Result]:
    s = Settings()
    configured = Argon2SecretHasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)
    owasp = Argon2SecretHasher(OWASP_TIME_COST, OWASP_MEMORY_KIB, OWASP_PARALLELISM)
    stored, stored_owasp = configured.hash(PIN), owasp.hash(PIN)
    problems = [p for p in (checked(configured, stored), checked(owasp, stored_owasp)) if p]
    times = interleaved(
        {
            "configured": partial(configured.verify, stored, PIN),
            "wrong": partial(configured.verify, stored, WRONG_PIN),
            "dummy": partial(configured.dummy_verify, PIN),
            "owasp": partial(owasp.verify, stored_owasp, PIN),
        },
        repeats=options.size(15, 3),
    )
    ms = {name: statistics.median(samples) * 1000 for name, samples in times.items()}
    for name, samples in times.items():
        say(f"  {name}: {ms[name]:.1f} ms ({noise([t * 1000 for t in samples])} ms)")
    void = f"; VOID: {'; '.join(problems)}" if problems else ""
    params = f"m={s.argon2_memory_kib} KiB t={s.argon2_time_cost} p={s.argon2_parallelism}"
    cost = ms["configured"] / ms["owasp"]
    dummy = ms["dummy"] / ms["configured"]
    return [
        Result(
            "credentials.argon2.verify_ms",
            rounded(ms["configured"]),
            f"ms/verification ({params})",
            f"OWASP m={OWASP_MEMORY_KIB} KiB t={OWASP_TIME_COST} p={OWASP_PARALLELISM}: {ms['owasp']:.1f} ms{void}",
            rounded(cost),
            "cost >= OWASP (ratio >= 1)",
            not problems and cost >= 1,
        ),
        Result(
            "credentials.argon2.dummy_verify_ms",
            rounded(ms["dummy"]),
            "ms/verification",
            f"a real verification {ms['configured']:.1f} ms (correct PIN), {ms['wrong']:.1f} ms (wrong PIN){void}",
            rounded(dummy),
            f"{DUMMY_LOW}x-{DUMMY_HIGH}x of a real verification",
            not problems and DUMMY_LOW <= dummy <= DUMMY_HIGH,
        ),
    ]
