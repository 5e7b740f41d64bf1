"""Where the CPNI keys are kept: a keyring file (mode 0600) or one key inline in the settings.

The file is re-read when it changes (another inode, size or modification time), so a server
that is running seals with the key a rotation made current from its next write on. It is
always replaced whole (a synced temporary file renamed over it): losing a key loses the
records sealed with it, so a crash must leave either the old keyring or the new one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cpniguard.customers.sealing import Keyring, decode_secret, new_secret
from cpniguard.errors import Conflict, CpniKeyUnavailable, InvalidInput

INLINE = "CPNIGUARD_CPNI_KEY"


class InlineKey:
    """One key from the settings (base64); it cannot be rotated in place."""

    def __init__(self, text: str) -> None:
        self._ring = Keyring.of(decode_secret(text, INLINE))
        self.where = INLINE

    def load(self) -> Keyring:
        return self._ring


class KeyringFile:
    """The keyring in a file, made by `cpniguard init` and rewritten by a rotation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._seen: tuple[int, int, int] | None = None
        self._ring: Keyring | None = None

    def load(self) -> Keyring:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise CpniKeyUnavailable(
                f"no CPNI key: run `cpniguard init` to make {self.path}, or set {INLINE}"
            ) from None
        seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._ring is None or seen != self._seen:
            try:
                text = self.path.read_text()
            except OSError as exc:
                raise CpniKeyUnavailable(f"cannot read the CPNI keyring {self.path}: {exc.strerror}") from None
            self._ring, self._seen = Keyring.from_text(text, str(self.path)), seen
        return self._ring

    def create(self) -> bool:
        """Makes a keyring of one new key when there is no file; True when one was made."""
        if self.path.exists():
            return False
        self.save(Keyring.of(new_secret()))
        return True

    def save(self, ring: Keyring) -> None:
        tmp = self.path.with_name(f".{os.getpid()}.{self.path.name}")  # still *.key: git ignores it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
        try:
            os.write(fd, ring.to_text().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    @contextmanager
    def rotating(self) -> Iterator[None]:
        """Held for a whole rotation, so that two cannot run at once."""
        try:
            fd = os.open(self.path.with_name(f".rotating.{self.path.name}"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise InvalidInput(f"cannot lock the CPNI keyring {self.path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict("another rotation of the CPNI key is running") from None
            yield
        finally:
            os.close(fd)
