"""What an office requires of a document's copy, read from rules/campaign.toml.

A document's ``require = [...]`` list is parsed once, at start, into a frozen
``OfficialPolicy``; an unknown value is an error naming it (and the known
ones), so a typo cannot silently switch a check off.
"""
from __future__ import annotations

from enum import Enum
from ..errors import RulesError
from ..record import frozen


class Requirement(str, Enum):
    """One piece of evidence an office can require of a document."""

    SIGNED_OR_STAMPED = "signed_or_stamped"   # intact digital signature, or red seal + signature block on a scan
    DIGITAL_SIGNATURE = "digital_signature"   # only an intact digital signature (ký số) will do
    TRUSTED_SIGNATURE = "trusted_signature"   # ... whose certificate chains to a configured root
    SEAL = "seal"                             # a red seal seen on a page image
    SIGNATURE_BLOCK = "signature_block"       # signer's title with a name under it
    NUMBER = "number"                         # "Số: 12/TTr-THCSNH" with the type code of its kind
    DATE = "date"                             # a complete date line
    DATE_IN_CYCLE = "date_in_cycle"           # ... lying in this cycle
    MINUTES_PARTS = "minutes_parts"           # a Biên bản with all its parts


KNOWN = tuple(r.value for r in Requirement)


@frozen
class OfficialPolicy:
    """The requirements for one document kind, in the order the rules give them.

    An empty policy accepts any copy (an office that takes Word files).
    """

    requires: tuple[Requirement, ...] = ()

    def __contains__(self, item: Requirement) -> bool:
        return item in self.requires

    @property
    def empty(self) -> bool:
        return not self.requires


def parse_policy(values: object, where: str) -> OfficialPolicy:
    """Parse a ``require`` value (a list of strings) into a policy.

    ``where`` names the place in the rules ("rules/campaign.toml, document
    'to_trinh'") for the error. Raises ``RulesError`` naming every unknown or
    malformed value; duplicates are kept once.
    """
    if not isinstance(values, (list, tuple)):
        raise RulesError(f"{where}: 'require' must be a list of strings, got {type(values).__name__}")
    bad = [repr(v) for v in values if not isinstance(v, str) or v not in KNOWN]
    if bad:
        raise RulesError(f"{where}: unknown 'require' value(s) {', '.join(bad)}; "
                         f"known: {', '.join(KNOWN)}")
    return OfficialPolicy(requires=tuple(dict.fromkeys(Requirement(v) for v in values)))


def policy_of(values: object | None, default: OfficialPolicy, where: str) -> OfficialPolicy:
    """A document's policy: its own ``require`` when given, else the campaign default."""
    return default if values is None else parse_policy(values, where)
