"""The installation key: an Ed25519 key that signs checkpoints and bundle manifests.

Anyone with write access to the store can rewrite the trail and recompute every hash; what they
cannot do without this key is sign the result. So the private key lives outside the database, in a
file only the server's account may read (mode 0600), and a key file that the group or others can
read is refused rather than used: a key anyone on the host could copy proves nothing. The public
key (``rectrack key show``) is what an auditor keeps, on their own machine, to check checkpoints
and bundles offline.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from models.store.errors import DomainError
from models.store.settings import get_settings


class KeyFileError(DomainError):
    """The key file cannot be used as it is; the message says what to do."""


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what an auditor pins."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM text (``rectrack key show`` output); KeyFileError if it is not one."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"not a PEM public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError("the public key is not an Ed25519 key")
    return key


def _check_private_mode(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the installation key {path} can be read by others (mode {stat.S_IMODE(mode):o}); "
            f"it was not used. Restrict it: chmod 600 {path}"
        )


def _read_private(path: Path) -> Ed25519PrivateKey:
    _check_private_mode(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"the installation key {path} cannot be read ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"the installation key {path} is not an Ed25519 key")
    return key


def installation_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The installation's private key, created (mode 0600, never replaced) on first use."""
    path = Path(path or get_settings().key_path)
    if path.exists():
        return _read_private(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:  # O_EXCL: two processes starting at once keep one key, the first one written
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_private(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def installation_public() -> Ed25519PublicKey:
    return installation_key().public_key()


def sign(data: bytes, key: Ed25519PrivateKey | None = None) -> tuple[str, str]:
    """(base64 signature of ``data``, fingerprint of the signing key)."""
    key = key or installation_key()
    return base64.b64encode(key.sign(data)).decode("ascii"), fingerprint(key.public_key())


def signature_holds(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
