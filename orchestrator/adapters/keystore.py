"""Supplier keys and DCC trust, loaded from a directory of PEM (or DER) files.

Files: `supplier_xml.key.pem` + `supplier_xml.cert.pem` (XML signing of DUIS requests),
`supplier_ds.key.pem` (digital signing of Upgrade Images and pre-commands; its certificate
`supplier_ds.cert.pem` is optional) and every `dcc*.cert.pem` (trusted DCC signing
certificates). They are the Import Supplier User's. A Gas Supplier User with another EUI
has its own set under the `gas_supplier_` prefix; with the same EUI (one User holding both
roles, as DCC Boxed's test Supplier does) it shares the Import Supplier's.

Every identity signs with the key of the EUI it claims: a certificate that names an EUI
(SMKI certificates carry it as `x500UniqueIdentifier`) must name the configured one.
"""
from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from duis.errors import DuisError
from duis.keys import TrustStore, load_certificate, load_private_key, public_p256
from duis.requestid import normalize_eui
from duis.sign import SigningIdentity
from orchestrator.errors import ConfigurationError
from orchestrator.service.wiring import SupplierIdentity

# Which DCC User role sends firmware requests for each device type.
GAS_TYPES = frozenset({"GSME", "GPF"})
IMPORT_PREFIX, GAS_PREFIX = "supplier", "gas_supplier"


class KeyStore:
    """The Supplier's identities per role and the DCC certificates it trusts."""

    def __init__(self, keys_dir: Path, import_supplier_eui: str, gas_supplier_eui: str):
        try:
            self._import = load_identity(keys_dir, IMPORT_PREFIX, import_supplier_eui,
                                         "FWO_IMPORT_SUPPLIER_EUI")
            self._gas = self._gas_identity(keys_dir, gas_supplier_eui)
            dcc = sorted(keys_dir.glob("dcc*.cert.pem"))
            self.trust = TrustStore.from_files(dcc)
        except DuisError as err:
            raise ConfigurationError(f"unusable key material in {keys_dir}: {err}") from err
        if not dcc:
            raise ConfigurationError(f"no trusted DCC certificate (dcc*.cert.pem) in {keys_dir}")
        self.digital_signing_key = self._import.digital_signing_key

    def _gas_identity(self, keys_dir: Path, eui: str) -> SupplierIdentity:
        if _eui(eui, "FWO_GAS_SUPPLIER_EUI") == self._import.originator:
            return self._import
        if not (keys_dir / f"{GAS_PREFIX}_xml.key.pem").exists():
            raise ConfigurationError(
                f"FWO_GAS_SUPPLIER_EUI {eui} is not the Import Supplier's EUI "
                f"{self._import.originator}, but {keys_dir} has no {GAS_PREFIX}_xml.key.pem: "
                "a User must sign with its own keys (or use one EUI for both roles)")
        return load_identity(keys_dir, GAS_PREFIX, eui, "FWO_GAS_SUPPLIER_EUI")

    def identity_for(self, device_type: str) -> SupplierIdentity:
        """Gas Supplier for gas devices, Import Supplier for the rest."""
        return self._gas if device_type in GAS_TYPES else self._import


def load_identity(keys_dir: Path, prefix: str, eui: str, setting: str) -> SupplierIdentity:
    """One User's XML-signing identity and digital-signing key, checked against its EUI."""
    originator = _eui(eui, setting)
    xml = SigningIdentity.load(_read(keys_dir / f"{prefix}_xml.key.pem"),
                               _read(keys_dir / f"{prefix}_xml.cert.pem"))
    _check_claim(xml.certificate, originator, f"{prefix}_xml.cert.pem", setting)
    ds_key = load_private_key(_read(keys_dir / f"{prefix}_ds.key.pem"))
    ds_cert_path = keys_dir / f"{prefix}_ds.cert.pem"
    if ds_cert_path.exists():
        ds_cert = load_certificate(_read(ds_cert_path))
        if public_p256(ds_cert).public_numbers() != ds_key.public_key().public_numbers():
            raise ConfigurationError(f"{ds_cert_path} is not the certificate of "
                                     f"{prefix}_ds.key.pem")
        _check_claim(ds_cert, originator, ds_cert_path.name, setting)
    return SupplierIdentity(originator, xml, ds_key)


def certificate_eui(cert: x509.Certificate) -> str | None:
    """The EUI-64 an SMKI certificate names in its subject's x500UniqueIdentifier, if any."""
    for attribute in cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER):
        value = attribute.value
        raw = value if isinstance(value, bytes) else value.encode()
        if len(raw) == 9 and raw[0] == 0:  # BIT STRING: no unused bits, then 8 octets
            raw = raw[1:]
        if len(raw) == 8:
            return "-".join(f"{b:02X}" for b in raw)
    return None


def _check_claim(cert: x509.Certificate, originator: str, name: str, setting: str) -> None:
    named = certificate_eui(cert)
    if named is not None and named != originator:
        raise ConfigurationError(f"{name} is the certificate of EUI {named}, but {setting} "
                                 f"claims {originator}: a User signs with its own key")


def _eui(eui: str, setting: str) -> str:
    try:
        return normalize_eui(eui)
    except DuisError as err:
        raise ConfigurationError(f"{setting}={eui!r} is not an EUI-64: {err}") from err


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigurationError(f"cannot read {path}: {err.strerror or err}") from err


class LazyKeyStore:
    """Loads the key store on first use, so commands that sign nothing need no keys."""

    def __init__(self, keys_dir: Path, import_supplier_eui: str, gas_supplier_eui: str):
        self._args = (keys_dir, import_supplier_eui, gas_supplier_eui)
        self._store: KeyStore | None = None

    def _get(self) -> KeyStore:
        if self._store is None:
            self._store = KeyStore(*self._args)
        return self._store

    def identity_for(self, device_type: str) -> SupplierIdentity:
        """As `KeyStore.identity_for`, loading the keys first."""
        return self._get().identity_for(device_type)

    @property
    def digital_signing_key(self) -> ec.EllipticCurvePrivateKey:
        """As `KeyStore.digital_signing_key`, loading the keys first."""
        return self._get().digital_signing_key

    @property
    def trust(self) -> TrustStore:
        """As `KeyStore.trust`, loading the keys first."""
        return self._get().trust
