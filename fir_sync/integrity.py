"""Integrity of published files: SHA-256 pins and detached signatures."""
from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from fir_sync.errors import IntegrityError

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as 64 lower-case hex characters."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str) -> None:
    """Refuse a file whose SHA-256 differs from the pinned value."""
    wanted = expected.strip().lower()
    actual = file_sha256(path)
    if actual != wanted:
        raise IntegrityError(f"{path.name}: SHA-256 is {actual}, expected {wanted}; "
                             "the file changed or was tampered with")


def check_signature(path: Path, signature_path: Path, public_key_path: Path) -> None:
    """Refuse a file whose detached signature (ECDSA/RSA SHA-256 or Ed25519) fails."""
    key = _load_public_key(public_key_path)
    signature = _load_signature(signature_path)
    data = path.read_bytes()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            raise IntegrityError(f"{public_key_path.name}: unsupported public key type")
    except InvalidSignature as err:
        raise IntegrityError(f"{path.name}: detached signature {signature_path.name} does not "
                             "verify with the given public key") from err


def _load_public_key(path: Path) -> object:
    data = path.read_bytes()
    try:
        if b"-----BEGIN CERTIFICATE" in data:
            from cryptography import x509
            return x509.load_pem_x509_certificate(data).public_key()
        if b"-----BEGIN" in data:
            return serialization.load_pem_public_key(data)
        return serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as err:
        raise IntegrityError(f"{path.name}: not a readable public key or certificate") from err


def _load_signature(path: Path) -> bytes:
    data = path.read_bytes()
    stripped = data.strip()
    try:
        return base64.b64decode(stripped, validate=True) if stripped.isascii() else data
    except (binascii.Error, ValueError):
        return data
