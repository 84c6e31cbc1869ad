"""Test keys and certificates: a `duis.testing.pki.Pki` derived from the seed.

`duis.testing.pki.Pki.generate()` makes fresh random keys; the generator needs the same keys
for the same seed (so a DSP simulator can rebuild them without the files), so this module
builds the same four credentials deterministically and writes them with `Pki.write`:
a P-256 CA with keyCertSign, and Supplier XML-signing, Supplier digital-signing and DCC
XML-signing leaves with digitalSignature. Private keys are unencrypted PKCS#8 PEM: test
material only, never for a real system.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from duis.testing.pki import Credential, Pki

# (Pki field, common name, organisational unit), named as Pki.generate() names them.
ROLES = (
    ("ca", "Test Root", "07"),
    ("supplier_xml", "Test Supplier XML signing", "87"),
    ("supplier_ds", "Test Supplier digital signing", "02"),
    ("dcc_xml", "Test DCC XML signing", "89"),
)
NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derive_key(seed: int, role: str) -> ec.EllipticCurvePrivateKey:
    """Return the P-256 private key of `role` for `seed` (a hash of both, reduced mod n)."""
    digest = hashlib.sha256(f"fwo-test-key:{seed}:{role}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def make_pki(seed: int) -> Pki:
    """Return the test PKI of `seed`: the same keys and certificates on every call."""
    ca = _credential(seed, ROLES[0], None)
    supplier_xml, supplier_ds, dcc_xml = (_credential(seed, role, ca) for role in ROLES[1:])
    return Pki(ca, supplier_xml, supplier_ds, dcc_xml)


def write_keys(out_dir: Path, *, seed: int) -> list[Path]:
    """Write `<name>.key.pem` and `<name>.cert.pem` per credential (Pki.write); return paths."""
    return sorted(make_pki(seed).write(out_dir).values())


def _credential(seed: int, role: tuple[str, str, str], issuer: Credential | None) -> Credential:
    field, common_name, unit = role
    key = derive_key(seed, field)
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    if issuer is None:
        return Credential(key, _certificate(seed, field, subject, key.public_key(), subject, key))
    return Credential(key, _certificate(seed, field, subject, key.public_key(),
                                        issuer.certificate.subject, issuer.key))


def _certificate(
    seed: int, field: str, subject: x509.Name, public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    ca = subject == issuer
    serial = int.from_bytes(hashlib.sha256(f"fwo-test-serial:{seed}:{field}".encode())
                            .digest()[:16], "big") >> 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(serial).not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )
