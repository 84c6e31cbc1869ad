"""Supplier keys and DCC trust, loaded from a directory of PEM files.

Files (as `fwo sim generate` writes them): `supplier_xml.key.pem` + `supplier_xml.cert.pem`
(XML signing of DUIS requests), `supplier_ds.key.pem` (digital signing of Upgrade Images and
pre-commands) and every `dcc*.cert.pem` (trusted DCC signing certificates).
"""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from duis.errors import DuisError
from duis.keys import TrustStore, load_private_key
from duis.sign import SigningIdentity
from orchestrator.errors import ConfigurationError
from orchestrator.service.wiring import SupplierIdentity

# Which DCC User role sends firmware requests for each device type.
GAS_TYPES = frozenset({"GSME", "GPF"})


class KeyStore:
    """The Supplier's identities per role and the DCC certificates it trusts."""

    def __init__(self, keys_dir: Path, import_supplier_eui: str, gas_supplier_eui: str):
        try:
            xml = SigningIdentity.load(_read(keys_dir / "supplier_xml.key.pem"),
                                       _read(keys_dir / "supplier_xml.cert.pem"))
            ds_key = load_private_key(_read(keys_dir / "supplier_ds.key.pem"))
            dcc = sorted(keys_dir.glob("dcc*.cert.pem"))
            self.trust = TrustStore.from_files(dcc)
        except DuisError as err:
            raise ConfigurationError(f"unusable key material in {keys_dir}: {err}") from err
        if not dcc:
            raise ConfigurationError(f"no trusted DCC certificate (dcc*.cert.pem) in {keys_dir}")
        self.digital_signing_key = ds_key
        self._import = SupplierIdentity(import_supplier_eui, xml, ds_key)
        self._gas = SupplierIdentity(gas_supplier_eui, xml, ds_key)

    def identity_for(self, device_type: str) -> SupplierIdentity:
        """Gas Supplier for gas devices, Import Supplier for the rest."""
        return self._gas if device_type in GAS_TYPES else self._import


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
