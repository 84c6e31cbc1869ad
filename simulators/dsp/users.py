"""DCC Users: the DSP's registry (EUI, role, certificates) and the Supplier-side identities.

A User is an EUI (BusinessOriginatorID) with its XML-signing and digital-signing
certificates, holding one or more roles. The generated `keys/` directory holds one Supplier
key pair of each kind, so by default one Supplier User (`90-B3-D5-1F-30-01-00-00`, as in DCC
Boxed) holds both the Import Supplier and the Gas Supplier role and signs with its own keys.
Identities of several roles under one EUI are registered as one User with every role; pass
`users=` to `build_simulation` for anything else (a User with another EUI needs its own
certificates).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from duis import build, gbcs
from duis.errors import KeyMaterialError
from duis.keys import TrustStore, load_certificate, load_private_key, public_p256
from duis.models import Request
from duis.requestid import normalize_eui
from duis.sign import SigningIdentity
from duis.testing.pki import Pki
from simulators import ConfigurationError
from simulators.dsp.codes import GAS_SUPPLIER, IMPORT_SUPPLIER, ROLE_NAMES
from simulators.fleet.devices import DEFAULT_PARTY

SUPPLIER_EUI = "90-B3-D5-1F-30-01-00-00"  # DCC Boxed's test Supplier User
DEFAULT_EUIS = {IMPORT_SUPPLIER: SUPPLIER_EUI, GAS_SUPPLIER: SUPPLIER_EUI}


@dataclass(frozen=True)
class UserConfig:
    """What the DSP knows of a User: EUI, role, certificates and supplier party."""

    eui: str
    role: str
    xml_cert: x509.Certificate
    ds_cert: x509.Certificate
    party: str = DEFAULT_PARTY
    also: frozenset[str] = frozenset()  # further roles the same User holds

    def __post_init__(self) -> None:
        object.__setattr__(self, "eui", normalize_eui(self.eui))
        for role in self.roles:
            if role not in ROLE_NAMES:
                raise ConfigurationError(f"unknown User role {role!r}; known: "
                                         f"{', '.join(ROLE_NAMES)}")

    @property
    def roles(self) -> frozenset[str]:
        """Every role the User holds."""
        return self.also | {self.role}

    def merged(self, other: UserConfig) -> UserConfig:
        """This User also holding `other`'s roles (same EUI, same certificates)."""
        if (other.xml_cert, other.ds_cert, other.party) != (self.xml_cert, self.ds_cert,
                                                            self.party):
            raise ConfigurationError(f"User {self.eui} is registered twice with different "
                                     "certificates or party")
        return replace(self, also=self.also | other.roles - {self.role})

    @property
    def ds_public_key(self) -> ec.EllipticCurvePublicKey:
        """The digital-signing public key (images, pre-commands)."""
        return public_p256(self.ds_cert)


@dataclass(frozen=True)
class UserIdentity:
    """A User as the Supplier holds it: keys and certificates to sign what the DSP accepts."""

    eui: str
    role: str
    xml: SigningIdentity
    ds_key: ec.EllipticCurvePrivateKey
    ds_cert: x509.Certificate
    party: str = DEFAULT_PARTY

    @property
    def config(self) -> UserConfig:
        """The DSP-side registration of this User."""
        return UserConfig(self.eui, self.role, self.xml.certificate, self.ds_cert, self.party)

    def sign(self, request: Request) -> bytes:
        """The request as signed DUIS XML (XML-signing key)."""
        return build.sign_request(request, self.xml)

    def sign_pre_command(self, payload: bytes) -> bytes:
        """Sign a DCC pre-command with the digital-signing key (for CommandVariant 5)."""
        return gbcs.sign_pre_command(payload, self.ds_key)


def identities_from_pki(pki: Pki, euis: dict[str, str] | None = None) -> dict[str, UserIdentity]:
    """Import and Gas Supplier identities sharing the Supplier credentials of `pki`."""
    return {
        role: UserIdentity(eui, role, pki.supplier_xml.identity, pki.supplier_ds.key,
                           pki.supplier_ds.certificate)
        for role, eui in (euis or DEFAULT_EUIS).items()
    }


def _read(keys: Path, name: str) -> bytes:
    try:
        return (keys / name).read_bytes()
    except OSError as err:
        raise ConfigurationError(f"cannot read {keys / name}: {err.strerror or err}") from err


def identities_from_keys(keys: Path, euis: dict[str, str] | None = None
                         ) -> dict[str, UserIdentity]:
    """Identities from a generated keys/ directory (supplier_xml, supplier_ds)."""
    try:
        xml = SigningIdentity.load(_read(keys, "supplier_xml.key.pem"),
                                   _read(keys, "supplier_xml.cert.pem"))
        ds_key = load_private_key(_read(keys, "supplier_ds.key.pem"))
        ds_cert = load_certificate(_read(keys, "supplier_ds.cert.pem"))
    except KeyMaterialError as err:
        raise ConfigurationError(f"unusable Supplier keys in {keys}: {err}") from err
    return {role: UserIdentity(eui, role, xml, ds_key, ds_cert)
            for role, eui in (euis or DEFAULT_EUIS).items()}


def dcc_identity_from_keys(keys: Path) -> SigningIdentity:
    """The DCC's XML-signing identity from a generated keys/ directory."""
    try:
        return SigningIdentity.load(_read(keys, "dcc_xml.key.pem"), _read(keys, "dcc_xml.cert.pem"))
    except KeyMaterialError as err:
        raise ConfigurationError(f"unusable DCC keys in {keys}: {err}") from err


class UserRegistry:
    """Registered Users by EUI, and the trust store of their XML-signing certificates."""

    def __init__(self, users: Iterable[UserConfig]) -> None:
        self.by_eui: dict[str, UserConfig] = {}
        for user in users:
            known = self.by_eui.get(user.eui)
            self.by_eui[user.eui] = user if known is None else known.merged(user)
        if not self.by_eui:
            raise ConfigurationError("the DSP needs at least one registered User")
        self.trust = TrustStore.of(u.xml_cert for u in self.by_eui.values())

    def get(self, eui: str) -> UserConfig | None:
        """The User with this EUI, or None."""
        return self.by_eui.get(eui)
