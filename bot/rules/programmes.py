"""``rules/programmes.toml`` parsed (pure): the neighbouring programmes,
the issuers that are not schools and the office's own documents, added to
the campaign."""
from __future__ import annotations

from ..errors import RulesError
from ..record import replace
from ..validate import Table
from .campaign import one_line
from .model import Campaign, Issuer, OfficeDocuments


def with_programmes(campaign: Campaign, data: dict, where: str = "programmes.toml") -> Campaign:
    """The campaign with the neighbouring programmes (``[[programme]]``: name,
    phrases), the issuers that are not schools (``[[issuer]]``: name, lines,
    codes) and the office's own documents (``[office_documents]``) of a
    parsed programmes.toml added."""
    err = lambda msg: RulesError(f"{where}: {msg}")  # noqa: E731
    top = Table(data, "", err)
    others = list(campaign.topic.others)
    for p in top.subs("programme"):
        name = p.get("name", str, check=one_line)
        phrases = p.str_list("phrases")
        if not phrases:
            raise p.fail("phrases", "list at least one phrase")
        others.append((name, phrases))
        p.done()
    issuers = list(campaign.issuers)
    for i in top.subs("issuer"):
        issuer = Issuer(name=i.get("name", str, check=one_line), lines=i.str_list("lines"),
                        codes=i.str_list("codes", ()), signers=i.str_list("signers", ()))
        if not issuer.lines:
            raise i.fail("lines", "list at least one way the name is written")
        issuers.append(issuer)
        i.done()
    office_documents = campaign.office_documents
    if top.has("office_documents"):
        o = top.sub("office_documents")
        office_documents = OfficeDocuments(
            name=o.get("name", str, check=one_line), subjects=o.str_list("subjects", ()),
            phrases=o.str_list("phrases", ()), signers=o.str_list("signers", ()),
            filenames=o.str_list("filenames", ()))
        if not (office_documents.phrases or office_documents.signers):
            raise o.fail("phrases", "list at least one phrase (or a signer title) the office's documents use")
        o.done()
    top.done()
    return replace(campaign, topic=replace(campaign.topic, others=tuple(others)), issuers=tuple(issuers),
                   office_documents=office_documents)
