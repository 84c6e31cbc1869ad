"""Request-level checks, in the order the DSP makes them; each failure names its code.

well-formed and schema-valid (E43) -> XML signature by a registered certificate (E41) ->
firmware SR structure (E43) -> originator is a registered User (E1) -> signed with that
User's certificate (E41) -> role may send the SR (E2) -> right target, DCC or device (E13) ->
RequestID counter above the last one from that originator to that target (E42; a
CommandVariant 5 may reuse the counter of the pre-command it signs; with replay scope
`originator`, above the originator's last to any target).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from duis import schema
from duis.codes import SR_BY_BODY, SR_NS, SrType
from duis.errors import DuisError, SignatureError
from duis.models import ParsedRequest
from duis.parse import parse_request
from duis.requestid import RequestId, parse_request_id
from duis.sign import verify_document
from duis.xmlsafe import parse_xml
from simulators import RequestRejectedError
from simulators.dsp.codes import SR_RULES
from simulators.dsp.context import DspContext
from simulators.dsp.users import UserConfig


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed the request-level checks, and the User who sent it."""

    parsed: ParsedRequest
    user: UserConfig

    @property
    def sr(self) -> SrType:
        """The service request type."""
        return self.parsed.request.sr

    @property
    def request_id(self) -> RequestId:
        """The RequestID."""
        return self.parsed.request.request_id


@dataclass(frozen=True, slots=True)
class Envelope:
    """What can be read of a request before it is trusted, to address the answer."""

    request_id: RequestId | None
    sr: SrType | None


class Rejected(RequestRejectedError):
    """A rejection that knows what it can of the request, to address the answer."""

    def __init__(self, code: str, reason: str, envelope: Envelope) -> None:
        super().__init__(code, reason)
        self.envelope = envelope


def _envelope(root: etree._Element) -> Envelope:
    rid: RequestId | None = None
    try:
        rid = parse_request_id(root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}RequestID") or "")
    except DuisError:
        pass
    body = root.find(f"{{{SR_NS}}}Body")
    kids = [k for k in body if isinstance(k.tag, str)] if body is not None else []
    sr = SR_BY_BODY.get(etree.QName(kids[0]).localname) if len(kids) == 1 else None
    return Envelope(rid, sr)


def admit(ctx: DspContext, xml: bytes) -> Admitted:
    """Run the request-level checks; raise Rejected with the code to answer with."""
    try:
        root = parse_xml(xml, ctx.config.max_request_bytes)
    except DuisError as err:
        raise Rejected("E43", str(err), Envelope(None, None)) from err
    envelope = _envelope(root)
    parsed, cert = _trusted(ctx, root, envelope)
    user = ctx.users.get(parsed.request.request_id.originator)
    if user is None:
        raise Rejected("E1", f"{parsed.request.request_id.originator} is not a User", envelope)
    admitted = Admitted(parsed, user)
    for check in (_own_certificate, _role, _target, _counter):
        check(ctx, admitted, cert, envelope)
    return admitted


def _trusted(ctx: DspContext, root: etree._Element, envelope: Envelope
             ) -> tuple[ParsedRequest, object]:
    try:
        if ctx.config.schema is not None and ctx.config.schema_path is not None:
            schema.validate_compiled(root, ctx.config.schema, Path(ctx.config.schema_path).name)
    except DuisError as err:
        raise Rejected("E43", str(err), envelope) from err
    try:
        verified = verify_document(root, ctx.users.trust, ctx.now())
    except SignatureError as err:
        raise Rejected("E41", str(err), envelope) from err
    except DuisError as err:
        raise Rejected("E43", str(err), envelope) from err
    try:
        return parse_request(root), verified.certificate
    except DuisError as err:
        raise Rejected("E43", str(err), envelope) from err


def _own_certificate(ctx: DspContext, a: Admitted, cert: object, envelope: Envelope) -> None:
    if cert != a.user.xml_cert:
        raise Rejected("E41", f"signed with a certificate that is not {a.user.eui}'s", envelope)


def _role(ctx: DspContext, a: Admitted, cert: object, envelope: Envelope) -> None:
    if a.user.roles.isdisjoint(SR_RULES[a.sr.key].roles):
        raise Rejected("E2", f"roles {'+'.join(sorted(a.user.roles))} may not send SR "
                             f"{a.sr.service_reference}", envelope)


def _target(ctx: DspContext, a: Admitted, cert: object, envelope: Envelope) -> None:
    to_dcc = a.request_id.target == ctx.config.dcc_eui
    if to_dcc != a.sr.targets_dcc:
        where = "the DCC" if a.sr.targets_dcc else "a device"
        raise Rejected("E13", f"SR {a.sr.service_reference} must target {where}", envelope)


def _counter(ctx: DspContext, a: Admitted, cert: object, envelope: Envelope) -> None:
    rid = a.request_id
    per_target = ctx.config.replay_scope == "target"
    key = f"{rid.originator}>{rid.target}" if per_target else rid.originator
    last = ctx.last_counter.get(key, -1)
    reuse = a.parsed.command_variant == 5 and (rid.originator, rid.counter) in ctx.precommands
    if rid.counter <= last and not reuse:
        raise Rejected("E42", f"counter {rid.counter} is not above {last}, the last from "
                       f"{rid.originator} to {rid.target if per_target else 'any target'} (replay)", envelope)
    ctx.last_counter[key] = max(last, rid.counter)
