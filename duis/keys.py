"""Loading P-256 keys (PEM or DER) and X.509 certificates, and the trusted-certificate set."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key,
    load_pem_private_key,
)

from duis.errors import KeyMaterialError, UntrustedCertificateError


def load_private_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    """Load an unencrypted P-256 private key from PEM or DER bytes."""
    loader = load_pem_private_key if data.lstrip().startswith(b"-----") else load_der_private_key
    try:
        key = loader(data, None)
    except (ValueError, TypeError) as err:
        raise KeyMaterialError(f"cannot load private key: {err}") from err
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyMaterialError("private key must be ECDSA on P-256 (secp256r1)")
    return key


def load_certificate(data: bytes) -> x509.Certificate:
    """Load an X.509 certificate from PEM or DER bytes."""
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as err:
        raise KeyMaterialError(f"cannot load certificate: {err}") from err


@functools.lru_cache(maxsize=256)
def public_p256(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    """The certificate's P-256 public key, or KeyMaterialError (loaded once per certificate)."""
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyMaterialError("certificate key must be ECDSA on P-256 (secp256r1)")
    return key


@functools.lru_cache(maxsize=1024)
def normalize_dn(text: str) -> tuple[tuple[str, str], ...]:
    """Order-insensitive form of an RFC 4514 name like `CN=Z1, OU=07`."""
    parts = (p.strip() for p in re.split(r"(?<!\\),", text) if p.strip())
    pairs = []
    for part in parts:
        attr, _, value = part.partition("=")
        pairs.append((attr.strip().upper(), value.strip()))
    return tuple(sorted(pairs))


def check_valid_at(cert: x509.Certificate, at: datetime | None) -> None:
    """Raise UntrustedCertificateError unless cert is valid at `at` (default: now)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    not_before, not_after, signs = _validity(cert)
    if not not_before <= moment <= not_after:
        raise UntrustedCertificateError(
            f"certificate serial {cert.serial_number} is not valid at {moment.isoformat()} "
            f"(valid {not_before.date()} to {not_after.date()})"
        )
    if not signs:
        raise UntrustedCertificateError("certificate key usage lacks digitalSignature")


@dataclass(frozen=True)
class TrustedSigner:
    """A trusted certificate prepared for verifying: its P-256 key, validity period and key
    usage read once, so checking a signature by it costs no parsing of the certificate."""

    certificate: x509.Certificate
    public_key: ec.EllipticCurvePublicKey
    valid_from: float  # POSIX seconds
    valid_until: float
    signs: bool

    @classmethod
    def of(cls, cert: x509.Certificate) -> TrustedSigner:
        """Prepare a certificate (KeyMaterialError unless its key is P-256)."""
        not_before, not_after, signs = _validity(cert)
        return cls(cert, public_p256(cert), not_before.timestamp(), not_after.timestamp(),
                   signs)

    def check_valid_at(self, at: datetime | None) -> None:
        """`check_valid_at` for this certificate (the current time read as a number)."""
        moment = time.time() if at is None else at.timestamp()
        if not self.valid_from <= moment <= self.valid_until or not self.signs:
            check_valid_at(self.certificate, at)  # names what is wrong


@functools.lru_cache(maxsize=256)
def _validity(cert: x509.Certificate) -> tuple[datetime, datetime, bool]:
    """A certificate's validity period, and whether it may sign (read once per certificate)."""
    try:
        signs = cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except x509.ExtensionNotFound:
        signs = True
    return cert.not_valid_before_utc, cert.not_valid_after_utc, signs


MAX_SPELLINGS = 1024  # issuer spellings remembered per trust store (each names a trusted one)


@dataclass(frozen=True)
class TrustStore:
    """Trusted signing certificates, looked up by issuer name and serial number."""

    by_issuer_serial: dict[tuple[tuple[tuple[str, str], ...], int], x509.Certificate]
    # issuer names as spelt in signatures, once found: the next look-up is one dict access
    _spelt: dict[tuple[str, int], TrustedSigner] = field(
        default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, certificates: Iterable[x509.Certificate]) -> TrustStore:
        """Build a store from certificates."""
        return cls(
            {(normalize_dn(c.issuer.rfc4514_string()), c.serial_number): c for c in certificates}
        )

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> TrustStore:
        """Build a store from PEM or DER certificate files."""
        return cls.of(load_certificate(Path(p).read_bytes()) for p in paths)

    def signer(self, issuer_name: str, serial: int) -> TrustedSigner:
        """The trusted certificate with this issuer and serial, prepared for verifying, or
        UntrustedCertificateError."""
        found = self._spelt.get((issuer_name, serial))
        if found is not None:
            return found
        cert = self.by_issuer_serial.get((normalize_dn(issuer_name), serial))
        if cert is None:
            raise UntrustedCertificateError(
                f"no trusted certificate for issuer {issuer_name!r} serial {serial}"
            )
        found = TrustedSigner.of(cert)
        if len(self._spelt) < MAX_SPELLINGS:
            self._spelt[(issuer_name, serial)] = found
        return found


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def raw_ecdsa_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA-SHA256 over data, returned as raw r||s (64 bytes for P-256)."""
    r, s = decode_dss_signature(key.sign(data, _ECDSA_SHA256))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_ecdsa_verify(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    """Check a raw r||s ECDSA-SHA256 signature."""
    if len(signature) != 64:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
