"""Every error the duis package raises, in one hierarchy under `DuisError`.

```
DuisError
├── IdentifierError            malformed EUI-64 or RequestID
├── RequestBuildError          a request cannot be built from the given values
├── XmlFormatError             not well-formed, hostile (DOCTYPE, entities) or too large
│   └── MessageStructureError  well-formed but not the DUIS structure we expect
├── SchemaValidationError      the document does not validate against the DUIS XSD
├── SchemaLoadError            the XSD itself cannot be read or compiled
├── KeyMaterialError           a key or certificate cannot be loaded or is unsuitable
├── SignatureError             an XML signature is absent, unsupported or does not verify
│   ├── SignatureMissingError
│   ├── UnsupportedSignatureError   other algorithms, transforms or references
│   ├── UntrustedCertificateError   no trusted certificate matches, or it is not valid then
│   └── SignatureMismatchError      the digest or the signature value does not match
├── GbcsPayloadError           a GBCS payload cannot be decoded
│   └── PreCommandMismatchError a pre-command is not the activation we requested
└── ImageError                 a GBCS Upgrade Image is inconsistent
    └── ImageSignatureError    the Supplier signature over the Manufacturer Image is wrong
```
"""

from __future__ import annotations


class DuisError(Exception):
    """Base of every error raised by the duis package."""


class IdentifierError(DuisError, ValueError):
    """An EUI-64 or RequestID is malformed."""


class RequestBuildError(DuisError, ValueError):
    """A service request cannot be built from the given values."""


class XmlFormatError(DuisError):
    """Input is not well-formed XML, is hostile, or exceeds the size limit."""


class MessageStructureError(XmlFormatError):
    """Well-formed XML that is not the DUIS message structure expected."""


class SchemaValidationError(DuisError):
    """A document does not validate against the DUIS schema."""


class SchemaLoadError(DuisError):
    """The DUIS schema cannot be read or compiled."""


class KeyMaterialError(DuisError):
    """A key or certificate cannot be loaded or is not usable for this purpose."""


class SignatureError(DuisError):
    """An XML signature is absent, unsupported or does not verify."""


class SignatureMissingError(SignatureError):
    """A signature is required but the document carries none."""


class UnsupportedSignatureError(SignatureError):
    """The signature uses an algorithm, transform or reference we refuse."""


class UntrustedCertificateError(SignatureError):
    """No trusted certificate matches the signature, or it is not valid at that time."""


class SignatureMismatchError(SignatureError):
    """The reference digest or the signature value does not match the document."""


class GbcsPayloadError(DuisError):
    """A GBCS payload cannot be decoded."""


class PreCommandMismatchError(GbcsPayloadError):
    """A DCC pre-command is undecodable or differs from the 11.3 we sent: never sign it."""


class ImageError(DuisError):
    """A GBCS Upgrade Image is malformed or inconsistent."""


class ImageSignatureError(ImageError):
    """The Supplier signature over the Manufacturer Image does not verify."""
