"""DCC User identities: each signs with the key of the EUI it claims; DCC trust and its clock."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from duis.testing.pki import Pki
from orchestrator.adapters.keystore import KeyStore, certificate_eui
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError

SUPPLIER, GAS = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-01-00-01"


def _keys(directory: Path, pki: Pki, prefix: str = "supplier") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for kind in ("xml", "ds"):
        cred = getattr(pki, f"supplier_{kind}")
        (directory / f"{prefix}_{kind}.key.pem").write_bytes(cred.key_pem)
        (directory / f"{prefix}_{kind}.cert.pem").write_bytes(cred.cert_pem)
    (directory / "dcc_xml.cert.pem").write_bytes(pki.dcc_xml.cert_pem)
    return directory


def _smki_cert(directory: Path, name: str, eui: str) -> None:
    """A self-signed certificate naming `eui` as SMKI certificates do, with its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "87"),
        x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER,
                           b"\x00" + bytes.fromhex(eui.replace("-", "")),
                           _type=x509.name._ASN1Type.BitString),
    ])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.UTC)).sign(key, hashes.SHA256()))
    (directory / f"{name}.key.pem").write_bytes(key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (directory / f"{name}.cert.pem").write_bytes(cert.public_bytes(Encoding.PEM))


def test_by_default_one_supplier_user_holds_both_roles(tmp_path: Path) -> None:
    """The default Import and Gas Supplier EUIs are the same User, signing with its keys."""
    settings = Settings()
    assert settings.import_supplier_eui == settings.gas_supplier_eui == SUPPLIER
    store = KeyStore(_keys(tmp_path, Pki.generate()), settings.import_supplier_eui,
                     settings.gas_supplier_eui)
    gas, electricity = store.identity_for("GSME"), store.identity_for("ESME")
    assert gas.originator == electricity.originator == SUPPLIER
    assert gas.xml is electricity.xml


def test_a_gas_user_with_its_own_eui_needs_its_own_keys(tmp_path: Path) -> None:
    """Another Gas Supplier EUI without gas_supplier_* keys is refused, never signed for."""
    keys = _keys(tmp_path, Pki.generate())
    with pytest.raises(ConfigurationError, match="gas_supplier_xml.key.pem"):
        KeyStore(keys, SUPPLIER, GAS)
    other = Pki.generate()
    _keys(keys, other, prefix="gas_supplier")
    (keys / "dcc_xml.cert.pem").write_bytes(other.dcc_xml.cert_pem)
    store = KeyStore(keys, SUPPLIER, GAS)
    gas = store.identity_for("GPF")
    assert gas.originator == GAS and gas.xml.certificate == other.supplier_xml.certificate
    assert store.identity_for("ESME").xml.certificate != gas.xml.certificate


def test_a_certificate_naming_another_eui_is_refused(tmp_path: Path) -> None:
    """An XML-signing certificate of EUI ...-01-00-00 cannot sign as ...-01-00-01."""
    keys = _keys(tmp_path, Pki.generate())
    _smki_cert(keys, "supplier_xml", SUPPLIER)
    assert KeyStore(keys, SUPPLIER, SUPPLIER).identity_for("ESME").originator == SUPPLIER
    with pytest.raises(ConfigurationError, match="certificate of EUI 90-B3-D5-1F-30-01-00-00"):
        KeyStore(keys, GAS, GAS)


def test_the_dcc_boxed_test_supplier_loads_under_its_own_eui(reference: Path,
                                                            tmp_path: Path) -> None:
    """The DCC Boxed test Supplier keys (DER and PEM) load as 90-B3-D5-1F-30-01-00-00 only."""
    dcc, rtds = reference / "dcc", reference / "gbcs-rtds" / "keystore"
    if not rtds.is_dir():
        pytest.skip(f"{rtds} is absent")
    for source, name in ((dcc / "xml-sign-90B3D51F30010000-ds.key", "supplier_xml.key.pem"),
                         (dcc / "certs_xml-sign-90B3D51F30010000-ds.pem", "supplier_xml.cert.pem"),
                         (rtds / "90b3d51f30010000-ds.key", "supplier_ds.key.pem"),
                         (rtds / "90b3d51f30010000-ds.pem", "supplier_ds.cert.pem"),
                         (dcc / "boxed" / "Z1-accessControlBroker-dSPXmlSign.pem",
                          "dcc_boxed.cert.pem")):
        shutil.copyfile(source, tmp_path / name)
    store = KeyStore(tmp_path, SUPPLIER, SUPPLIER)
    assert certificate_eui(store.identity_for("GSME").xml.certificate) == SUPPLIER
    with pytest.raises(ConfigurationError, match="claims 90-B3-D5-1F-30-01-00-01"):
        KeyStore(tmp_path, GAS, GAS)


def test_the_verification_time_setting_is_checked() -> None:
    """FWO_DUIS_VERIFY_AT is an aware ISO time; unset means certificates are checked now."""
    assert Settings().verify_at is None
    pinned = Settings.from_env({"FWO_DUIS_VERIFY_AT": "2024-01-01T00:00:00Z"}).verify_at
    assert pinned == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for bad in ("yesterday", "2024-01-01T00:00:00"):
        with pytest.raises(ConfigurationError, match="FWO_DUIS_VERIFY_AT"):
            _ = Settings.from_env({"FWO_DUIS_VERIFY_AT": bad}).verify_at
