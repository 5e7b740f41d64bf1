"""Ed25519 signatures for audit checkpoints (the `Signer` port's adapter)."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Ed25519Signer:
    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._public = _b64(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def public_key(self) -> str:
        return self._public

    def sign(self, message: bytes) -> str:
        return _b64(self._key.sign(message))


class Ed25519Verifier:
    def verify(self, public_key: str, message: bytes, signature: str) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
            key.verify(base64.b64decode(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def new_seed() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()
