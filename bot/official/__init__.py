"""Evidence that a document is the official paper (issue 16).

One module per concern, each pure (bytes, images or text in; a frozen value
out): ``signature`` (PDF digital signatures, pyHanko), ``seal`` (red round
seal on a page image), ``signblock`` (signer's title and name), ``numbering``
(the document's number and date), ``minutes`` (the parts of a Biên bản),
``policy`` (what an office requires, from rules/campaign.toml) and
``verdict`` (everything weighed into an ``Evidence``, the record ``evidence``
defines).

The names are loaded on first use (PEP 562), as in ``bot.extract``: the
configuration reads ``TrustRoots`` and the rules ``policy``, and importing
either must not load the checks (their regular expressions and records) of
the other modules.
"""
from __future__ import annotations

from ..lazy import lazy_exports

# public name -> the module that defines it
_WHERE = {
    "MinutesCheck": "minutes", "check_minutes": "minutes",
    "NumberDate": "numbering", "read_number_date": "numbering",
    "KNOWN": "policy", "OfficialPolicy": "policy", "Requirement": "policy", "parse_policy": "policy",
    "policy_of": "policy",
    "PageSeal": "seal", "SealCandidate": "seal", "find_seal": "seal",
    "DigitalSignature": "signature", "SignatureReport": "signature", "TrustRoots": "signature",
    "has_signature_data": "signature", "load_trust_roots": "signature", "read_signatures": "signature",
    "BlockFinding": "signblock", "SignatureBlock": "signblock", "find_blocks": "signblock",
    "Evidence": "evidence", "Medium": "evidence",
    "Cycle": "verdict", "Observations": "verdict", "judge": "verdict", "observe": "verdict",
}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
