"""CPNI at rest: the keyring and AES-GCM, the `CpniSealer` port's adapter (BREACH23-8).

A copied database must reveal no call detail, so that the harm assessment of a breach can rely
on encryption while the key was not taken with it. Each value is sealed with AES-256-GCM under
a random 96-bit nonce; the associated data (chosen by the caller) binds it to its row. A key's
id is a digest of the key itself: a wrong key can only be a missing key, never a key that
opens nothing under the right id, and an inline key keeps its id when it moves to a file.

Random nonces keep a key safe for 2**32 seals (NIST SP 800-38D 8.3); rotating the key starts
the count again.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cpniguard.errors import CpniKeyUnavailable, CpniSealBroken

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's native nonce
VERSION = b"\x01"  # the first byte of a sealed value: this layout, version byte, nonce, ciphertext and tag
TAG_BYTES = 16
FORMAT = "cpniguard-cpni-keyring/1"


def key_id_of(secret: bytes) -> str:
    return hashlib.sha256(b"cpniguard cpni key\x00" + secret).hexdigest()[:16]


def new_secret() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def decode_secret(text: str, where: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CpniKeyUnavailable(f"{where}: a CPNI key must be base64") from None
    if len(secret) != KEY_BYTES:
        raise CpniKeyUnavailable(f"{where}: a CPNI key must be {KEY_BYTES} bytes (AES-256), not {len(secret)}")
    return secret


@dataclass(frozen=True)
class Keyring:
    """The CPNI keys by id; new seals use `current`, the others only open what they sealed."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def of(cls, secret: bytes) -> Keyring:
        return cls({key_id_of(secret): secret}, key_id_of(secret))

    def with_new_current(self, secret: bytes) -> Keyring:
        return Keyring({**self.keys, key_id_of(secret): secret}, key_id_of(secret))

    def without(self, ids: Sequence[str]) -> Keyring:
        if self.current in ids:
            raise ValueError("the current CPNI key cannot leave the keyring")
        return Keyring({k: v for k, v in self.keys.items() if k not in ids}, self.current)

    @property
    def others(self) -> list[str]:
        """The keys new seals no longer use."""
        return sorted(k for k in self.keys if k != self.current)

    def to_text(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"format": FORMAT, "current": self.current, "keys": keys}, indent=2) + "\n"

    @classmethod
    def from_text(cls, text: str, where: str) -> Keyring:
        try:
            data = json.loads(text)
            current, keys = data["current"], data["keys"]
            if data.get("format") != FORMAT or not isinstance(keys, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise CpniKeyUnavailable(f"{where}: not a CPNI keyring ({FORMAT})") from None
        secrets = {str(k): decode_secret(str(v), where) for k, v in keys.items()}
        for key, secret in secrets.items():
            if key_id_of(secret) != key:
                raise CpniKeyUnavailable(f"{where}: key {key} does not match its id (altered?)")
        if current not in secrets:
            raise CpniKeyUnavailable(f"{where}: the current key {current} is not in the keyring")
        return cls(secrets, current)


def _same(ring: Keyring) -> Keyring:
    return ring


class AesGcmSealer:
    """Seals and opens with the keyring `source` gives at each call, so that a running process
    follows a rotation (the source re-reads its file when it changes)."""

    def __init__(self, source: Callable[[], Keyring]) -> None:
        self._source = source
        self._ciphers: dict[str, AESGCM] = {}  # by key id; an id names one key for ever

    def current_key(self) -> str:
        return self._source().current

    def pinned(self) -> AesGcmSealer:
        return AesGcmSealer(functools.partial(_same, self._source()))

    def __getstate__(self) -> dict[str, object]:
        return {"_source": self._source, "_ciphers": {}}  # ciphers are made again where it lands

    def seal(self, items: Sequence[tuple[bytes, bytes]]) -> tuple[str, list[bytes]]:
        ring = self._source()
        cipher = self._cipher(ring, ring.current)
        nonces = os.urandom(NONCE_BYTES * len(items))  # one call: a system call per row cost more than the AES
        sealed = []
        for i, (associated, plaintext) in enumerate(items):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            sealed.append(VERSION + nonce + cipher.encrypt(nonce, plaintext, associated))
        return ring.current, sealed

    def open(self, items: Sequence[tuple[str, bytes, bytes]]) -> list[bytes]:
        ring = self._source()
        opened = []
        for i, (key, associated, sealed) in enumerate(items):
            if sealed[:1] != VERSION or len(sealed) < 1 + NONCE_BYTES + TAG_BYTES:
                raise CpniSealBroken("a sealed CPNI value has an unknown layout", i)
            try:
                opened.append(self._cipher(ring, key).decrypt(sealed[1:13], sealed[13:], associated))
            except InvalidTag:
                raise CpniSealBroken("a sealed CPNI value failed authentication", i) from None
        return opened

    def _cipher(self, ring: Keyring, key: str) -> AESGCM:
        if key not in ring.keys:  # checked each time: a key retired from the file is gone here too
            raise CpniKeyUnavailable(
                f"the CPNI keyring lacks key {key}: configure the keyring that sealed these records"
            )
        cipher = self._ciphers.get(key)
        if cipher is None:
            cipher = self._ciphers[key] = AESGCM(bytes(ring.keys[key]))
        return cipher
