"""Messages written to a folder instead of sent: the default when no provider is configured, so a
new user can read exactly what would have gone out. Also the shared file-writing rules that make
every file-based adapter safe to retry: one file per idempotency key, written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from cpniguard.ports import DeliveryFailed, Envelope

# The key becomes a file name: anything that could climb out of the folder is refused.
_SAFE_KEY = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,199}")


def file_stem(idempotency_key: str) -> str:
    """The key as a file name, or a permanent failure (a retry would be refused the same way)."""
    if not _SAFE_KEY.fullmatch(idempotency_key):
        raise DeliveryFailed("idempotency key is not usable as a file name", transient=False)
    return idempotency_key


def write_atomically(path: Path, data: bytes) -> None:
    """A reader (a print run, a person) sees the whole file or none of it; the temporary file is
    hidden (leading dot) so a batch pick-up that skips dot files never takes a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class FolderSender:
    """Writes each message to `<folder>/<channel>/<idempotency_key>.txt` as readable text."""

    def __init__(self, folder: Path, channel: str) -> None:
        self._folder = Path(folder) / channel

    def send(self, envelope: Envelope) -> str:
        path = self._folder / f"{file_stem(envelope.idempotency_key)}.txt"
        if path.exists():  # a retry of a message already written: the same reference, no rewrite
            return str(path)
        try:
            if envelope.attachment is not None:
                write_atomically(self._attachment_path(path, envelope), envelope.attachment)
            write_atomically(path, as_text(envelope).encode("utf-8"))
        except OSError as exc:
            raise DeliveryFailed(f"could not write to {self._folder}: {exc.strerror}", transient=True) from exc
        return str(path)

    @staticmethod
    def _attachment_path(path: Path, envelope: Envelope) -> Path:
        name = Path(envelope.attachment_name or "attachment").name  # no directories from the name
        return path.with_name(f"{path.stem}.{name}")


def as_text(envelope: Envelope) -> str:
    """Mail-like headers, a blank line, the body; a multi-line postal address is folded."""
    headers = [
        ("To", envelope.recipient),
        ("Subject", envelope.subject),
        ("Channel", envelope.channel),
        ("Language", envelope.language),
        ("Idempotency-Key", envelope.idempotency_key),
    ]
    if envelope.attachment is not None:
        headers.append(("Attachment", f"{envelope.attachment_name or 'attachment'} ({len(envelope.attachment)} bytes)"))
    lines = [f"{name}: {_folded(value)}" for name, value in headers]
    return "\n".join(lines) + "\n\n" + envelope.body + ("" if envelope.body.endswith("\n") else "\n")


def _folded(value: str) -> str:
    return "\n  ".join(line.strip() for line in value.splitlines() if line.strip())
