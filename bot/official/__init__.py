"""Evidence that a document is the official paper (issue 16).

One module per concern, each pure (bytes, images or text in; a frozen value
out): ``signature`` (PDF digital signatures, pyHanko), ``seal`` (red round
seal on a page image), ``signblock`` (signer's title and name), ``numbering``
(the document's number and date), ``minutes`` (the parts of a Biên bản),
``policy`` (what an office requires, from rules/campaign.toml) and
``verdict`` (everything weighed into an ``Evidence``).
"""
from .minutes import MinutesCheck, check_minutes
from .numbering import NumberDate, read_number_date
from .policy import KNOWN, OfficialPolicy, Requirement, parse_policy, policy_of
from .seal import PageSeal, SealCandidate, find_seal
from .signature import (DigitalSignature, SignatureReport, TrustRoots, has_signature_data, load_trust_roots,
                        read_signatures)
from .signblock import BlockFinding, SignatureBlock, find_blocks
from .verdict import Cycle, Evidence, Medium, Observations, judge, observe

__all__ = [
    "BlockFinding", "Cycle", "DigitalSignature", "Evidence", "KNOWN", "Medium", "MinutesCheck", "NumberDate",
    "Observations", "OfficialPolicy", "PageSeal", "Requirement", "SealCandidate", "SignatureBlock",
    "SignatureReport", "TrustRoots", "check_minutes", "find_blocks", "find_seal", "has_signature_data",
    "judge", "load_trust_roots", "observe", "parse_policy", "policy_of", "read_number_date", "read_signatures",
]
