"""Sample data: addresses in domains reserved for examples and tests (RFC
2606, RFC 6761), which the bundled roster, coordinator and inbox use; the
bot refuses to send while the roster or coordinator is sample data."""
from __future__ import annotations

from dataclasses import dataclass

from .model import Config

# Names that can never be a real mail domain (RFC 2606, RFC 6761): the
# bundled sample roster, coordinator and inbox use them.
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def is_reserved_domain(address: str) -> bool:
    """Whether the domain of ``address`` (or a bare domain) is reserved for
    examples and tests, so mail to it can only be sample data."""
    domain = address.rsplit("@", 1)[-1].strip().strip(".").lower()
    return (domain.rsplit(".", 1)[-1] in RESERVED_TLDS
            or any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS))


@dataclass(frozen=True)
class SampleData:
    """Addresses of a config and roster that are sample data (reserved domains)."""

    roster: tuple[str, ...]  # addresses in rules/schools.csv
    coordinator: tuple[str, ...]  # [coordinator] emails

    def __bool__(self) -> bool:
        return bool(self.roster or self.coordinator)

    def problems(self, config: Config) -> list[str]:
        """One sentence per file to replace, naming it."""
        out = []
        if self.roster:
            out.append(f"the roster {config.paths.rules / 'schools.csv'} has {len(self.roster)} address(es) in "
                       f"reserved example domains (e.g. {self.roster[0]}): it is the bundled sample; replace it "
                       "with the office's list of schools")
        if self.coordinator:
            out.append(f"[coordinator] emails in {config.source_file} is sample data ({', '.join(self.coordinator)}): "
                       "put the coordinator's real address")
        return out


def sample_data(config: Config, roster_emails) -> SampleData:
    """The reserved-domain addresses among the roster's and the coordinator's."""
    return SampleData(roster=tuple(e for e in roster_emails if is_reserved_domain(e)),
                      coordinator=tuple(e for e in config.coordinator_emails if is_reserved_domain(e)))
