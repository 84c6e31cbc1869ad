"""A throw-away test PKI: a CA plus Supplier and DCC signing certificates on P-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from duis.sign import SigningIdentity

NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Credential:
    """A P-256 key and its certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def identity(self) -> SigningIdentity:
        return SigningIdentity(self.key, self.certificate)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: Credential | None
) -> x509.Certificate:
    ca = issuer is None
    signer_key = key if issuer is None else issuer.key
    issuer_name = subject if issuer is None else issuer.certificate.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca), critical=True)
    )
    return builder.sign(signer_key, hashes.SHA256())


def issue(common_name: str, unit: str, issuer: Credential | None) -> Credential:
    """A new key with a certificate issued by `issuer` (self-signed CA when None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return Credential(key, _certificate(_name(common_name, unit), key, issuer))


@dataclass(frozen=True)
class Pki:
    """CA, Supplier XML-signing, Supplier digital-signing and DCC XML-signing credentials."""

    ca: Credential
    supplier_xml: Credential
    supplier_ds: Credential
    dcc_xml: Credential

    @classmethod
    def generate(cls) -> Pki:
        """Fresh keys and certificates (valid 2020-2100)."""
        ca = issue("Test Root", "07", None)
        return cls(
            ca,
            issue("Test Supplier XML signing", "87", ca),
            issue("Test Supplier digital signing", "02", ca),
            issue("Test DCC XML signing", "89", ca),
        )

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write each key and certificate as PEM files; return their paths by name."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for name in ("ca", "supplier_xml", "supplier_ds", "dcc_xml"):
            cred: Credential = getattr(self, name)
            for suffix, data in (("key", cred.key_pem), ("cert", cred.cert_pem)):
                path = out / f"{name}.{suffix}.pem"
                path.write_bytes(data)
                paths[f"{name}_{suffix}"] = path
        return paths
