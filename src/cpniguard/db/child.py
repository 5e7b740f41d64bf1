"""Child interpreters for work that wants the second core: `python -m MODULE` with this
source tree on its path, the request on stdin, the answer on stdout, a failure's reason in a
temporary file (so a long one cannot block the child while the parent reads stdout).

Fresh interpreters rather than forks: a server's other threads may hold locks at fork time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from typing import IO

import cpniguard

log = logging.getLogger(__name__)


def start_child(module: str, request: bytes, what: str) -> tuple[subprocess.Popen[bytes], IO[bytes]] | None:
    """The running child and its error file, or None (logged) when it could not start."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(cpniguard.__file__)))
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it with the child)
    try:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, a module of ours, no shell)
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "PYTHONPATH": path},
        )
    except OSError as exc:
        errors.close()
        log.warning("%s not started (%s); doing its part here", what, exc)
        return None
    assert process.stdin is not None
    with contextlib.suppress(OSError), process.stdin:  # a child that died at once: its result says so
        process.stdin.write(request)
    return process, errors
