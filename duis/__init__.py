"""DUIS and GBCS for firmware rollouts: build, sign, verify, validate and parse.

A leaf library (bytes in, objects out). Modules: `build` (requests), `respond` (DCC-side
responses and alerts), `sign` (XMLDSig), `parse` (hardened parsing), `schema` (XSD),
`image` (GBCS Upgrade Images), `gbcs` (the GBCS payload codecs of the firmware flows, as the
DCC's RTDS has them), `facts` (GBCS payloads to model fields), `requestid`, `keys`, `codes`,
`models`, `errors`, and `testing.pki`.
"""
