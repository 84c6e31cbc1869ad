"""DUIS and GBCS for firmware rollouts: build, sign, verify, validate and parse.

A leaf library (bytes in, objects out). Modules: `build` (requests), `respond` (DCC-side
responses and alerts), `sign` (XMLDSig), `parse` (hardened parsing), `schema` (XSD),
`image` (GBCS Upgrade Images), `gbcs` (payload codec), `requestid`, `keys`, `codes`,
`models`, `errors`, and `testing.pki`.
"""
