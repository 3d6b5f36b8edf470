"""Evidence precision and recall on a generated, labelled set of documents (issue 16, "Done when").

The fast test runs a small seed; the slow one a larger set. For figures:

    PYTHONPATH=$PWD python3 -m tests.test_official_precision --seed 16 --n 400

prints the table per variant and the four figures of the issue.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.official.policy import parse_policy
from bot.official.signature import TrustRoots, quiet_library_logs
from bot.official.verdict import Cycle, Medium, judge, observe
from tests import officialfactory as f

NOW = datetime(2023, 10, 12, 3, 0, tzinfo=timezone.utc)
CYCLE = Cycle(date(2023, 8, 1), date(2023, 10, 10))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = parse_policy(["signed_or_stamped", "number", "date_in_cycle", "minutes_parts"], "evaluation")


@dataclass(frozen=True)
class Figures:
    documents: int
    called_official: int
    official_right: int          # called official and truly official
    drafts: int                  # unsigned Word/ODT/text PDF/typed copies
    drafts_flagged: int          # ... called not official
    valid_signatures: int
    valid_called_invalid: int    # a valid signature reported as bad (must be 0)
    tampered: int
    tampered_called_valid: int   # a PDF changed after signing called official (must be 0)
    undecided: int
    seconds: float
    per_kind: dict

    @property
    def precision(self) -> float:
        return self.official_right / self.called_official if self.called_official else 1.0

    @property
    def draft_recall(self) -> float:
        return self.drafts_flagged / self.drafts if self.drafts else 1.0


def evaluate(seed: int, n: int) -> Figures:
    """Generate ``n`` labelled documents with ``seed``, judge each, count."""
    pki = f.make_pki(NOW)
    corpus = f.labelled_corpus(seed, n, NOW, pki)
    roots = TrustRoots((pki.root.cert,))
    counts: Counter = Counter()
    per_kind: dict = defaultdict(Counter)
    start = time.perf_counter()
    for doc in corpus:
        obs = observe(medium=Medium(doc.medium), lines=doc.lines, codes=["BB" if doc.is_minutes else "TTr"],
                      cycle=CYCLE, now=NOW, pdf=doc.pdf, roots=roots, page_images=doc.images,
                      is_minutes=doc.is_minutes)
        ev = judge(obs, POLICY, TZ)
        verdict = {True: "official", False: "not", None: "undecided"}[ev.official]
        per_kind[doc.kind][f"{'T' if doc.truth else 'F'}->{verdict}"] += 1
        counts["called"] += ev.official is True
        counts["right"] += ev.official is True and doc.truth
        counts["undecided"] += ev.official is None
        if doc.kind in ("word", "text_pdf", "typed_copy"):
            counts["drafts"] += 1
            counts["drafts_flagged"] += ev.official is False
        if doc.signature == "valid":
            counts["valid"] += 1
            sig = ev.digital_signature
            counts["valid_bad"] += (sig is None or not sig.intact or sig.modified_after_signing
                                    or ev.tampered or any("chữ ký số" in p and "bị sửa" in p for p in ev.problems))
        if doc.signature == "tampered":
            counts["tampered"] += 1
            counts["tampered_ok"] += ev.official is not False or not ev.tampered
    return Figures(n, counts["called"], counts["right"], counts["drafts"], counts["drafts_flagged"],
                   counts["valid"], counts["valid_bad"], counts["tampered"], counts["tampered_ok"],
                   counts["undecided"], time.perf_counter() - start, dict(per_kind))


def _check(fig: Figures) -> None:
    assert fig.precision >= 0.99, fig
    assert fig.draft_recall >= 0.98, fig
    assert fig.valid_called_invalid == 0, fig
    assert fig.tampered_called_valid == 0, fig


def test_evidence_precision_small_set():
    _check(evaluate(seed=1, n=32))


@pytest.mark.stress  # 300 documents, about 30 s of CPU: the long runs' lane (the small set is in the fast lane)
def test_evidence_precision_larger_set():
    _check(evaluate(seed=2, n=300))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args()
    quiet_library_logs()
    fig = evaluate(args.seed, args.n)
    print(f"seed {args.seed}, {fig.documents} documents, {fig.seconds:.1f} s judging "
          f"({1000 * fig.seconds / fig.documents:.0f} ms a document)")
    for kind in sorted(fig.per_kind):
        print(f"  {kind:26s} " + ", ".join(f"{k} {v}" for k, v in sorted(fig.per_kind[kind].items())))
    print(f"called official: {fig.called_official}, truly official among them: {fig.official_right} "
          f"(precision {fig.precision:.1%})")
    print(f"unsigned drafts flagged: {fig.drafts_flagged}/{fig.drafts} ({fig.draft_recall:.1%})")
    print(f"valid signatures reported invalid: {fig.valid_called_invalid}/{fig.valid_signatures}")
    print(f"PDFs modified after signing called valid: {fig.tampered_called_valid}/{fig.tampered}")
    print(f"undecided (coordinator question): {fig.undecided}")


if __name__ == "__main__":
    main()
