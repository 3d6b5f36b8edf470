"""Classify documents: which school sent each one, what it is, and whether it counts.

Pure functions, no I/O and no clock: ``classify_message`` takes a parsed
message, the text extracted from its attachments, the rules and the time the
mail reached the server, and returns one ``ItemDecision`` per document part.

How evidence is weighed (details in the functions below):

- School. Strong: the sender's address on the roster (for forwarded mail the
  original sender) and the issuing body in the document's header block.
  Medium: the forwarder's roster address, the mail subject, the signature of
  the mail body, the sender's display name, an approximate (OCR) or
  incomplete header match. Weak: the filename. A school mentioned in passing
  in a body never counts. Two strong sources that disagree mean review.
- Document type. The title line and the type abbreviation of the ``Số:`` line
  in the head weigh most; the subject line ("Về việc", "V/v") confirms.
  Without either, the body's own headings and labels (``body`` of each
  document in the rules: "Chủ trì:", "Thư ký:" of a Biên bản) type a part
  when they show one type clearly (``doctype.body_type``); body words and the
  filename only ever produce a guess that goes to review.
- Campaign and issuer. A document counts only when its own words (title,
  trích yếu, the body's own sentences when the trích yếu is lost) name the
  campaign's object (``[topic] object``); topic words alone never do. One
  whose own words name a neighbouring programme (``rules/programmes.toml``)
  or speak of something else, or whose issuing body is not a school (Công an
  phường, UBND phường, Đoàn, the office itself: ``[[issuer]]``), is ignored
  with that reason. The office's own plan whose head OCR could not read is
  known by its content (``office``: its trích yếu, its sentences, its
  signature; ``[office_documents]``): ignored, or review when the signs are thin.
- Year. The document's date and school year against the cycle; without a
  readable date, other evidence of this cycle (its trích yếu, a school year,
  a date in its text, the mail's words) or review.
- Mail. Spam and mail naming no roster school and no campaign word are
  ignored; a mail with more attachments than ``attachment_cap`` is one review
  item; a page photo without a title continues the document photographed
  before it only when its top shows it (its page number follows, the
  document's end, body text read well without a head: ``pages``) and its
  body does not show another type; a later page that joined nothing joins
  the one document of its body's type in the mail, and one numbered 2 or
  more without such a document is reviewed, never counted on its own; a
  head it could not read never joins it to another document (``_page_runs``).

Every decision carries short reasons in Vietnamese, with diacritics: they
are shown to the coordinator in the digest and the review queue. Every
"review" and "ignored" decision also carries a typed ``ReasonCode``
(``bot.model``): for a review item, the cause the digest shows. When in
doubt the answer is "review": a wrong "counted" means a school is never
reminded.

The package, one module per concern (import the public names from
``bot.classify`` itself):

* ``message``: ``classify_message`` and ``classify_part``, the decision of
  each part, and the message-level items (automatic mail, missing or
  unread attachments, damaged mail).
* ``index``: ``ClassifierIndex``, built from the rules (``build_index``,
  ``index_for``); ``constants``: national formats and mail conventions;
  ``forms``: matching forms (``match_form``).
* ``school_names``: canonical school names; ``schools``: roster schools
  found in text (exact, ambiguous, approximate); ``issuer``: the issuing
  school of a document head.
* ``head``: the head of a document (title, ``Số:`` line, issuer block,
  subject).
* ``evidence``: school evidence of the mail, the header and the filename,
  and how it is weighed (``resolve_school``).
* ``doctype``: the document type; ``topic``: this campaign or another;
  ``year``: the date and school year against the cycle; ``office``: the
  office's own documents, by their content; ``pages``: whether a page photo
  continues the document before it.
* ``helpers``: small helpers for the wording of reasons.
"""
from __future__ import annotations

from .doctype import TypeVerdict, detect_doc_type, filename_types, second_documents
from .evidence import (SchoolEvidence, SchoolVerdict, filename_evidence, filename_stem, head_evidence,
                       is_meaningless_filename, message_evidence, resolve_school, signature_lines,
                       signature_school)
from .forms import match_form, text_form
from .head import Head, NumberLine, match_title, parse_head, split_lines, split_run_on
from .index import ClassifierIndex, TypeSig, build_index, index_for
from .issuer import HeadSchool, OtherIssuer, compact_school, find_school_in_head, issuer_text, other_issuer
from .office import OfficeVerdict, office_document
from .message import (MessageContext, automatic_reason, classify_message, classify_part, looks_like_submission,
                      missing_attachment, not_a_document)
from .school_names import SchoolMention, canon_school_text
from .schools import find_schools, fuzzy_school, merge_mentions
from .topic import TopicVerdict, campaign_words, topic_score
from .year import YearSignals, YearVerdict, check_year, document_year, mail_years, text_dates

__all__ = [
    "ClassifierIndex", "Head", "HeadSchool", "MessageContext", "NumberLine", "OfficeVerdict", "OtherIssuer",
    "SchoolEvidence", "office_document",
    "SchoolMention", "campaign_words", "mail_years", "other_issuer", "text_dates",
    "SchoolVerdict", "TopicVerdict", "TypeSig", "TypeVerdict", "YearSignals", "YearVerdict", "automatic_reason",
    "build_index", "canon_school_text", "check_year", "classify_message", "classify_part", "compact_school",
    "detect_doc_type", "document_year", "filename_evidence", "filename_stem", "filename_types",
    "find_school_in_head", "find_schools", "fuzzy_school", "head_evidence", "index_for", "is_meaningless_filename",
    "issuer_text", "looks_like_submission", "match_form", "match_title", "merge_mentions", "message_evidence",
    "missing_attachment", "not_a_document", "parse_head", "resolve_school", "second_documents", "signature_lines",
    "signature_school", "split_lines", "split_run_on", "text_form", "topic_score",
]
