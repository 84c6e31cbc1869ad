"""Enveloped XMLDSig as DUIS uses it: sign (fast path) and strictly verify.

The reference (URI="", enveloped transform only) digests the *inclusive* C14N 1.0 form of
the document without its Signature; SignedInfo is canonicalised with exclusive C14N and signed
with ECDSA-SHA256 on P-256 (raw r||s). Signed output is the canonical document with the
Signature spliced in before the root's end tag, so the bytes we hash are the bytes we send.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from duis.codes import DS_NS
from duis.errors import (
    KeyMaterialError,
    MessageStructureError,
    SignatureMismatchError,
    SignatureMissingError,
    UnsupportedSignatureError,
)
from duis.keys import (
    TrustedSigner,
    TrustStore,
    load_certificate,
    load_private_key,
    public_p256,
    raw_ecdsa_sign,
    raw_ecdsa_verify,
)
from duis.xmlsafe import parse_xml

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ALLOWED_TRANSFORMS = {(ENVELOPED,): False, (ENVELOPED, EXC_C14N): True}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_D = f"{{{DS_NS}}}"

_SIGNED_INFO = (
    f'<ds:SignedInfo xmlns:ds="{DS_NS}">'
    f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
    f'<ds:SignatureMethod Algorithm="{ECDSA_SHA256}"></ds:SignatureMethod>'
    '<ds:Reference URI=""><ds:Transforms>'
    f'<ds:Transform Algorithm="{ENVELOPED}"></ds:Transform></ds:Transforms>'
    f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
    "<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
)


@dataclass(frozen=True)
class SigningIdentity:
    """A P-256 XML-signing key with the certificate named in KeyInfo."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def __post_init__(self) -> None:
        if public_p256(self.certificate).public_numbers() != self.key.public_key().public_numbers():
            raise KeyMaterialError("signing key does not match the signing certificate")

    @classmethod
    def load(cls, key_bytes: bytes, cert_bytes: bytes) -> SigningIdentity:
        """Load from key (PEM or DER) and certificate bytes."""
        return cls(load_private_key(key_bytes), load_certificate(cert_bytes))

    @functools.cached_property
    def key_info(self) -> str:
        """The KeyInfo element naming the certificate by issuer and serial (built once)."""
        issuer = escape(self.certificate.issuer.rfc4514_string())
        return (
            "<ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>"
            f"<ds:X509IssuerName>{issuer}</ds:X509IssuerName>"
            f"<ds:X509SerialNumber>{self.certificate.serial_number}</ds:X509SerialNumber>"
            "</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo>"
        )


def sign_parts(parts: Sequence[bytes | memoryview], identity: SigningIdentity) -> bytes:
    """Sign a canonical document given as parts, the last being the root's end tag."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part)
    digest = base64.b64encode(hasher.digest()).decode()
    signed_info = _SIGNED_INFO.format(digest=digest)
    value = base64.b64encode(raw_ecdsa_sign(identity.key, signed_info.encode())).decode()
    signature = (
        f'<ds:Signature xmlns:ds="{DS_NS}">{signed_info}'
        f"<ds:SignatureValue>{value}</ds:SignatureValue>{identity.key_info}</ds:Signature>"
    ).encode()
    return b"".join((XML_DECLARATION, *parts[:-1], signature, parts[-1]))


def sign_canonical(canonical: bytes, identity: SigningIdentity) -> bytes:
    """Sign a document given in inclusive-C14N form; return the signed document bytes."""
    close = canonical.rindex(b"</")
    view = memoryview(canonical)
    return sign_parts((view[:close], view[close:]), identity)


def sign_document(document: bytes | etree._Element, identity: SigningIdentity) -> bytes:
    """Sign an XML document (replacing any existing enveloped signature)."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    if root.getprevious() is not None or root.getnext() is not None:
        raise MessageStructureError("cannot sign a document with nodes outside its root element")
    for old in root.findall(f"{_D}Signature"):
        _detach(old)
    return sign_canonical(etree.tostring(root, method="c14n", with_comments=False), identity)


@dataclass(frozen=True)
class VerifiedSignature:
    """Outcome of a successful verification: which trusted certificate signed, and the
    SHA-256 of the canonical signed content (the document without its signature), the same
    for every serialisation and every re-signing of one message."""

    certificate: x509.Certificate
    content_digest: bytes = b""


def canonical_sha256(root: etree._Element) -> str:
    """SHA-256 (hex) of a parsed document's canonical form (inclusive C14N 1.0 without
    comments, signature included): the same for every serialisation of one signed message
    (XML declaration or none, quoting, attribute order, comments, CDATA, character refs)."""
    canonical = etree.tostring(root.getroottree(), method="c14n", with_comments=False)
    return hashlib.sha256(canonical).hexdigest()


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = list(parent.iterchildren(f"{_D}{name}"))
    if len(found) != 1:
        raise UnsupportedSignatureError(f"expected exactly one ds:{name}, found {len(found)}")
    return found[0]


def _algorithm(parent: etree._Element, name: str, allowed: str) -> None:
    got = _one(parent, name).get("Algorithm")
    if got != allowed:
        raise UnsupportedSignatureError(f"ds:{name} {got!r} is not allowed (only {allowed})")


def _check_signed_info(signed_info: etree._Element) -> tuple[etree._Element, bool]:
    """Check algorithms and the single whole-document reference; return it and exclusivity."""
    _algorithm(signed_info, "CanonicalizationMethod", EXC_C14N)
    _algorithm(signed_info, "SignatureMethod", ECDSA_SHA256)
    reference = _one(signed_info, "Reference")
    if reference.get("URI") != "":
        raise UnsupportedSignatureError(
            f'reference URI must be "" (whole document), got {reference.get("URI")!r}'
        )
    transforms = tuple(
        t.get("Algorithm") or "" for t in _one(reference, "Transforms").findall(f"{_D}Transform")
    )
    if transforms not in ALLOWED_TRANSFORMS:
        raise UnsupportedSignatureError(f"transforms {transforms} are not allowed")
    _algorithm(reference, "DigestMethod", SHA256)
    return reference, ALLOWED_TRANSFORMS[transforms]


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError as err:
        raise SignatureMismatchError(f"{what} is not valid base64") from err


def _first(parent: etree._Element | None, name: str) -> etree._Element | None:
    return None if parent is None else next(parent.iterchildren(f"{_D}{name}"), None)


def _signer(signature: etree._Element, trust: TrustStore) -> TrustedSigner:
    issuer_serial = _first(_first(_first(signature, "KeyInfo"), "X509Data"), "X509IssuerSerial")
    if issuer_serial is None:
        raise UnsupportedSignatureError("KeyInfo must name the certificate by X509IssuerSerial")
    serial_text = (issuer_serial.findtext(f"{_D}X509SerialNumber") or "").strip()
    if not serial_text.isdigit():
        raise UnsupportedSignatureError(f"X509SerialNumber is not a number: {serial_text[:40]!r}")
    issuer = issuer_serial.findtext(f"{_D}X509IssuerName") or ""
    return trust.signer(issuer, int(serial_text))


def _text_before(element: etree._Element) -> tuple[etree._Element, bool]:
    """Where text just before element lives: (previous sibling, True) or (parent, False)."""
    prev = element.getprevious()
    if prev is not None:
        return prev, True
    parent = element.getparent()
    assert parent is not None
    return parent, False


def _get(holder: tuple[etree._Element, bool]) -> str | None:
    text: str | None = holder[0].tail if holder[1] else holder[0].text
    return text


def _set(holder: tuple[etree._Element, bool], value: str | None) -> None:
    if holder[1]:
        holder[0].tail = value
    else:
        holder[0].text = value


def _detach(element: etree._Element) -> None:
    """Remove element but keep its tail text in the document, as the DOM would."""
    holder, tail = _text_before(element), element.tail
    if tail:
        _set(holder, (_get(holder) or "") + tail)
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)


def _document_digest(root: etree._Element, signature: etree._Element, exclusive: bool) -> bytes:
    """SHA-256 of the C14N document without the signature; the tree is left unchanged."""
    parent = signature.getparent()
    assert parent is not None
    index, holder, tail = parent.index(signature), _text_before(signature), signature.tail
    saved = _get(holder)
    _detach(signature)
    try:
        canonical = etree.tostring(
            root.getroottree(), method="c14n", exclusive=exclusive, with_comments=False
        )
    finally:
        _set(holder, saved)
        parent.insert(index, signature)
        signature.tail = tail
    return hashlib.sha256(canonical).digest()


def find_signature(root: etree._Element) -> etree._Element | None:
    """The document's enveloped signature (a child of the root), refusing more than one."""
    every = list(root.iter(f"{_D}Signature"))
    if len(every) > 1:
        raise UnsupportedSignatureError(f"expected one ds:Signature, found {len(every)}")
    if every and every[0].getparent() is not root:
        raise UnsupportedSignatureError("ds:Signature must be a child of the root element")
    return every[0] if every else None


# The one SignedInfo shape the DCC, DCC Boxed and `fwo` sign with, in exclusive canonical form
# (the only form the signature is computed over), around its DigestValue.
_FAST_BEFORE, _, _FAST_AFTER = _SIGNED_INFO.partition("{digest}")
_FAST_SHAPE = re.compile(re.escape(_FAST_BEFORE.encode()) + rb"([A-Za-z0-9+/]{43}=)"
                         + re.escape(_FAST_AFTER.encode()))
# The whole ds:Signature as they write it, in exclusive canonical form: that SignedInfo (its
# namespace declared once, on ds:Signature), a raw r||s value, and the certificate named by
# issuer (with no character C14N escapes) and serial. Inside this form SignedInfo is
# `<ds:SignedInfo>`; on its own, its canonical form is `_SIGNED_INFO` with the same digest.
_SIGNATURE_OPEN = f'<ds:Signature xmlns:ds="{DS_NS}">'.encode()
_SIGNATURE_BARE = b"<ds:Signature>"
_FAST_SIGNATURE = re.compile(
    re.escape(_SIGNATURE_OPEN)
    + re.escape(_FAST_BEFORE.replace(f' xmlns:ds="{DS_NS}"', "", 1).encode())
    + rb"([A-Za-z0-9+/]{43}=)" + re.escape(_FAST_AFTER.encode())
    + rb"<ds:SignatureValue>([A-Za-z0-9+/]{86}==)</ds:SignatureValue>"
    rb"<ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>"
    rb"<ds:X509IssuerName>([^<&]*)</ds:X509IssuerName>"
    rb"<ds:X509SerialNumber>([0-9]{1,80})</ds:X509SerialNumber>"
    rb"</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>")


def _expected_digest(signed_info: etree._Element, canonical_si: bytes) -> tuple[bytes, bool]:
    """The reference's DigestValue and whether its transforms are exclusive C14N.

    The usual shape is recognised from its canonical bytes alone: one whole-document
    reference, enveloped-signature transform, SHA-256, ECDSA-SHA256, exclusive C14N. Any
    other form goes through every check one element at a time, naming what is not allowed.
    """
    fast = _FAST_SHAPE.fullmatch(canonical_si)
    if fast is not None:
        return base64.b64decode(fast.group(1)), ALLOWED_TRANSFORMS[(ENVELOPED,)]
    reference, exclusive = _check_signed_info(signed_info)
    return _b64(_one(reference, "DigestValue").text, "DigestValue"), exclusive


def _check(signer: TrustedSigner, at: datetime | None, value: bytes, canonical_si: bytes,
           expected: bytes, content: bytes) -> VerifiedSignature:
    signer.check_valid_at(at)
    if not raw_ecdsa_verify(signer.public_key, value, canonical_si):
        raise SignatureMismatchError("SignatureValue does not verify over SignedInfo")
    if not hmac.compare_digest(expected, content):
        raise SignatureMismatchError("reference digest does not match the document")
    return VerifiedSignature(signer.certificate, content)


def _verify_usual(root: etree._Element, signature: etree._Element, trust: TrustStore,
                  at: datetime | None) -> VerifiedSignature | None:
    """Verify a signature in the usual shape (`_FAST_SIGNATURE`) from two canonical forms,
    the signature's and the document's; None when it has another shape.

    Where the document's inclusive canonical form holds the signature's rendering once, it
    is there as the signature element itself (a `<` in text or attributes is always escaped,
    so those bytes are an element's start tag, and `find_signature` allows one ds:Signature):
    cut out, the rest is the canonical form of the document without its signature, the
    enveloped-signature transform's output."""
    canonical_sig = etree.tostring(signature, method="c14n", exclusive=True,
                                   with_comments=False)
    usual = _FAST_SIGNATURE.fullmatch(canonical_sig)
    if usual is None:
        return None
    digest, value, issuer, serial = usual.groups()
    document = etree.tostring(root.getroottree(), method="c14n", with_comments=False)
    # inside the document it is rendered as on its own, or with its namespace declared above
    for rendered in (canonical_sig, _SIGNATURE_BARE + canonical_sig[len(_SIGNATURE_OPEN):]):
        start = document.find(rendered)
        if start >= 0:
            break
    else:
        return None  # rendered otherwise (an unused namespace declared in it, say)
    if document.find(rendered, start + 1) >= 0:
        return None  # an element of another namespace spelt alike: take the document apart
    content = hashlib.sha256(document[:start])
    content.update(document[start + len(rendered):])
    signer = trust.signer(issuer.decode(), int(serial))
    canonical_si = _SIGNED_INFO.format(digest=digest.decode()).encode()
    return _check(signer, at, base64.b64decode(value), canonical_si, base64.b64decode(digest),
                  content.digest())


def verify_document(
    document: bytes | etree._Element, trust: TrustStore, at: datetime | None = None
) -> VerifiedSignature:
    """Verify the enveloped signature against trusted certificates, valid at `at` (default now)."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    signature = find_signature(root)
    if signature is None:
        raise SignatureMissingError("document carries no ds:Signature")
    usual = _verify_usual(root, signature, trust, at)
    if usual is not None:
        return usual
    signed_info = _one(signature, "SignedInfo")
    canonical_si = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    expected, exclusive = _expected_digest(signed_info, canonical_si)
    signer = _signer(signature, trust)
    value = _b64(_one(signature, "SignatureValue").text, "SignatureValue")
    return _check(signer, at, value, canonical_si, expected,
                  _document_digest(root, signature, exclusive))
