"""What a document says: the Nghị định 30/2020 layout filled with realistic text.

``compose(spec, ctx)`` turns a ``DocSpec`` (school, type, topic, year,
variant) into a ``DocContent`` (header lines, title, subject, body blocks,
recipients, signers). Everything is drawn from ``random.Random`` seeded by
the spec, so the same spec always gives the same document: that is what lets
the renderers cache their output.

The bodies deliberately cite other document types ("căn cứ Kế hoạch số ...",
"kèm theo Báo cáo, Biên bản ...") and sometimes another school, because
that is what misleads keyword counting in the real mailbox.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from .roster import School

CAMPAIGN = "antq"
OTHER_TOPICS = ("ma_tuy", "pccc", "atgt", "ne_nep")
TITLES = {"to_trinh": "TỜ TRÌNH", "bao_cao": "BÁO CÁO", "bien_ban": "BIÊN BẢN", "ke_hoach": "KẾ HOẠCH"}
CODES = {"to_trinh": "TTr", "bao_cao": "BC", "bien_ban": "BB", "ke_hoach": "KH"}


@dataclass(frozen=True)
class DocSpec:
    """The identity of one document; equal specs render to equal bytes.

    ``year`` is the campaign year the document was written for (its date
    falls in that year). ``variant`` picks presentation choices (HOÀ/HÒA,
    letter-spaced title, NFD text...). ``corrected`` is the later, fixed
    version a school re-sends. ``short`` keeps reports to about two pages
    (used for scans, which are costly to render and to mail).
    """

    school: str
    doc_type: str
    topic: str = CAMPAIGN
    year: int = 2023
    variant: int = 0
    corrected: bool = False
    short: bool = False


@dataclass(frozen=True)
class Block:
    """A piece of body text. ``kind``: p (paragraph), h (bold heading),
    b (bullet), kv (bold label + text), c (centred italic)."""

    kind: str
    text: str
    label: str = ""


@dataclass(frozen=True)
class Signer:
    titles: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Style:
    """Presentation choices of one variant (all seen in real dossiers)."""

    letter_spaced: bool = False
    nfd: bool = False
    old_hoa: bool = False        # "HOÀ" instead of "HÒA"
    en_dash: bool = False        # "Độc lập – Tự do – Hạnh phúc"
    parent_style: int = 0
    full_issuer: bool = False    # "TRƯỜNG TRUNG HỌC CƠ SỞ ..." instead of "TRƯỜNG THCS ..."
    deputy_signs: bool = False   # "KT. HIỆU TRƯỞNG / PHÓ HIỆU TRƯỞNG"
    mention_other: bool = False  # the body names another school in passing
    zero_pad: bool = True        # "ngày 05" vs "ngày 5"
    blank_number: bool = False   # "Số:    /TTr-..." left for the clerk to fill


@dataclass(frozen=True)
class DocContent:
    spec: DocSpec
    style: Style
    parent: str
    issuer: str
    number: str
    nation: str
    motto: str
    place_date: str
    title: str
    subject: tuple[str, ...]
    recipient: str | None
    body: tuple[Block, ...]
    places: tuple[str, ...]          # "Nơi nhận" items; empty for minutes
    signers: tuple[Signer, ...]      # one (right) or two (left, right)
    doc_date: date = field(default=date(2023, 1, 1))
    other_school: str | None = None  # code of a school named in passing

    def plain_lines(self) -> list[str]:
        """All the text, top to bottom (for tests and debugging)."""
        lines = [self.parent, self.issuer, self.number, self.nation, self.motto, self.place_date,
                 self.title, *self.subject]
        if self.recipient:
            lines.append(self.recipient)
        lines += [(b.label + " " + b.text).strip() for b in self.body]
        lines += list(self.places)
        for s in self.signers:
            lines += [*s.titles, s.name]
        return lines


@dataclass(frozen=True)
class Context:
    """What the composer needs beyond the spec: the roster and the office."""

    roster: dict[str, School]
    place: str = "Quận 12"
    office: str = "Phòng Giáo dục và Đào tạo"


# --------------------------------------------------------------------------- people and facts

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh", "Phan", "Trương"]
_MIDDLE_F = ["Thị", "Thị Thu", "Thị Ngọc", "Thị Thanh", "Ngọc", "Thị Kim"]
_MIDDLE_M = ["Văn", "Minh", "Hoàng", "Quốc", "Thanh", "Đức"]
_GIVEN_F = ["Lan", "Hương", "Mai", "Hà", "Phương", "Thảo", "Hằng", "Nga", "Yến", "Loan", "Trang", "Tuyết"]
_GIVEN_M = ["Hùng", "Dũng", "Tuấn", "Bình", "Khoa", "Long", "Phúc", "Sơn", "Thắng", "Trí", "Nam", "Hải"]


def person(rng: random.Random) -> tuple[str, str]:
    """A Vietnamese full name and its honorific (Bà/Ông)."""
    if rng.random() < 0.65:
        return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE_F)} {rng.choice(_GIVEN_F)}", "Bà"
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE_M)} {rng.choice(_GIVEN_M)}", "Ông"


@dataclass(frozen=True)
class Facts:
    """Stable facts about a school in a year (same in all its documents)."""

    principal: tuple[str, str]
    deputy: tuple[str, str]
    secretary: tuple[str, str]
    staff: int
    pupils: int
    classes: int
    ward: str
    numbers: dict


def school_facts(school: School, year: int) -> Facts:
    rng = random.Random(f"facts:{school.code}:{year}")
    small = school.level in ("MN", "MG", "NT")
    staff = rng.randint(25, 45) if small else rng.randint(45, 120)
    pupils = rng.randint(180, 450) if small else rng.randint(700, 2400)
    numbers = {t: rng.randint(3, 95) for t in CODES}
    return Facts(principal=person(rng), deputy=person(rng), secretary=person(rng), staff=staff,
                 pupils=pupils, classes=max(6, pupils // rng.randint(28, 40)),
                 ward=rng.choice(["Tân Chánh Hiệp", "Thạnh Lộc", "An Phú Đông", "Hiệp Thành",
                                  "Thới An", "Tân Thới Hiệp", "Trung Mỹ Tây", "Đông Hưng Thuận"]),
                 numbers=numbers)


def style_for(spec: DocSpec) -> Style:
    """Presentation choices, fixed per (school, type, topic, year, variant)."""
    rng = random.Random(f"style:{spec.school}:{spec.doc_type}:{spec.topic}:{spec.year}:{spec.variant}")
    return Style(
        letter_spaced=rng.random() < 0.2, nfd=rng.random() < 0.1, old_hoa=rng.random() < 0.4,
        en_dash=rng.random() < 0.3, parent_style=rng.randint(0, 1), full_issuer=rng.random() < 0.3,
        deputy_signs=rng.random() < 0.25,
        mention_other=spec.topic == CAMPAIGN and spec.doc_type == "bao_cao" and rng.random() < 0.35,
        zero_pad=rng.random() < 0.8, blank_number=rng.random() < 0.05,
    )


def plan_citation(year: int) -> str:
    """The office's plan that starts the campaign of ``year`` (887/KH-GDĐT in 2023)."""
    if year == 2023:
        return "Kế hoạch số 887/KH-GDĐT ngày 11/7/2023"
    rng = random.Random(f"plan:{year}")
    return f"Kế hoạch số {rng.randint(600, 990)}/KH-GDĐT ngày {rng.randint(3, 25)}/7/{year}"


def school_year(year: int, ahead: bool = False) -> str:
    """The school year a report speaks of: the one just ended, or the new one."""
    return f"{year}-{year + 1}" if ahead else f"{year - 1}-{year}"


def format_date(place: str, d: date, zero_pad: bool = True) -> str:
    day = f"{d.day:02d}" if zero_pad else str(d.day)
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"{place}, ngày {day} tháng {month} năm {d.year}"


def doc_date(spec: DocSpec) -> date:
    """Documents are signed before the mail is sent (submissions start 26/9)."""
    rng = random.Random(f"date:{spec.school}:{spec.doc_type}:{spec.topic}:{spec.year}:{spec.corrected}")
    if spec.corrected:
        return date(spec.year, 10, rng.randint(2, 5))
    if spec.doc_type == "ke_hoach":
        return date(spec.year, 9, rng.randint(5, 15))
    if spec.doc_type == "bien_ban":
        return date(spec.year, 9, rng.randint(15, 21))
    return date(spec.year, 9, rng.randint(21, 25))


# --------------------------------------------------------------------------- composing

def compose(spec: DocSpec, ctx: Context) -> DocContent:
    """The full content of the document ``spec`` describes."""
    if spec.topic != CAMPAIGN and spec.topic not in _TOPICS:
        from .hard import compose_hard  # the hard preset's programmes and issuers
        return compose_hard(spec, ctx)
    school = ctx.roster[spec.school]
    style = style_for(spec)
    facts = school_facts(school, spec.year)
    rng = random.Random(f"text:{spec}")
    d = doc_date(spec)
    writer = _CAMPAIGN_WRITERS[spec.doc_type] if spec.topic == CAMPAIGN else _other_writer(spec)
    other = _other_school(school, ctx, rng) if style.mention_other else None
    title, subject, recipient, body, places, signers = writer(spec, school, facts, ctx, rng, d, other)
    number_code = CODES[spec.doc_type]
    num = "   " if style.blank_number else f"{facts.numbers[spec.doc_type] + (1 if spec.corrected else 0):02d}"
    nation = "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" if style.old_hoa else "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    dash = "–" if style.en_dash else "-"
    return DocContent(
        spec=spec, style=style, parent=school.parent(ctx.place, style.parent_style),
        issuer=school.issuer(style.full_issuer),
        number=f"Số: {num}/{number_code}-{school.abbreviation}",
        nation=nation, motto=f"Độc lập {dash} Tự do {dash} Hạnh phúc",
        place_date=format_date(ctx.place, d, style.zero_pad),
        title=title, subject=subject, recipient=recipient, body=tuple(body),
        places=tuple(places), signers=tuple(signers), doc_date=d,
        other_school=other.code if other else None,
    )


def _other_school(school: School, ctx: Context, rng: random.Random) -> School:
    """Prefer the confusable sibling (TH/THCS Nguyễn Trãi, Sơn Ca 6/8)."""
    from .roster import confusable
    twin = confusable(school, tuple(ctx.roster.values()))
    if twin is not None:
        return twin
    others = [s for s in ctx.roster.values() if s.code != school.code]
    return rng.choice(others)


def _head_role(school: School) -> str:
    return "Giám đốc" if school.is_centre else "Hiệu trưởng"


def _head_signer(facts: Facts, style: Style) -> Signer:
    if style.deputy_signs:
        return Signer(("KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"), facts.deputy[0])
    return Signer(("HIỆU TRƯỞNG",), facts.principal[0])


def _head_signer_centre(school: School, facts: Facts, style: Style) -> Signer:
    if school.is_centre:
        return Signer(("GIÁM ĐỐC",), facts.principal[0])
    return _head_signer(facts, style)


def _legal_basis(year: int) -> str:
    # Decision 9745 is dated 28/12/2022: a dossier of an earlier year cannot cite it.
    if year >= 2023:
        return ("Quyết định số 9745/QĐ-BCA-V05 ngày 28/12/2022 của Bộ Công an ban hành Bộ Tiêu chí tạm thời "
                "xây dựng phường, cơ quan, doanh nghiệp, cơ sở giáo dục điển hình về phong trào toàn dân "
                "bảo vệ ANTQ")
    return ("Thông tư số 124/2021/TT-BCA ngày 28/12/2021 của Bộ Công an quy định khu dân cư, xã, phường, "
            "cơ quan, doanh nghiệp, cơ sở giáo dục đạt tiêu chuẩn “An toàn về an ninh, trật tự”")


def _to_trinh(spec, school, facts, ctx, rng, d, other):
    y, unit = spec.year, school.unit()
    subject = rng.choice([
        f"Về việc đề nghị công nhận đơn vị đạt điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm {y}",
        "V/v đề nghị xét, công nhận cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ "
        f"năm học {school_year(y)}",
    ])
    bb_date = doc_date(DocSpec(spec.school, "bien_ban", spec.topic, y))
    body = [
        Block("p", f"Căn cứ {plan_citation(y)} của {ctx.office} {ctx.place} về tiếp tục xây dựng cơ sở giáo dục "
                   "điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc;"),
        Block("p", f"Căn cứ {_legal_basis(y)};"),
        Block("p", f"Căn cứ Biên bản họp xét ngày {bb_date.day:02d}/{bb_date.month:02d}/{y} của Hội đồng thi đua - "
                   f"khen thưởng {unit} về việc đề nghị công nhận đơn vị điển hình;"),
        Block("p", f"Căn cứ kết quả thực hiện phong trào toàn dân bảo vệ an ninh Tổ quốc năm học {school_year(y)} "
                   "của đơn vị,"),
        Block("p", f"{unit} kính trình {ctx.office} {ctx.place} xem xét, đề nghị công nhận {unit} đạt "
                   f"“Cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc” năm {y}."),
        Block("p", "Hồ sơ kèm theo gồm: Báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ "
                   "ANTQ và Biên bản họp xét, đề nghị của đơn vị."),
        Block("p", f"Kính trình {ctx.office} xem xét, phê duyệt./."),
    ]
    if spec.corrected:
        body.insert(5, Block("p", "Tờ trình này thay thế Tờ trình đã gửi trước đó do có sai sót về số liệu."))
    places = ["- Như trên;", "- Lưu: VT."]
    return ("TỜ TRÌNH", _split_subject(subject), f"Kính gửi: {ctx.office} {ctx.place}.", body, places,
            [_head_signer_centre(school, facts, style_for(spec))])


_CRITERIA = [
    ("Công tác lãnh đạo, chỉ đạo của chi bộ, thủ trưởng đơn vị", [
        "Chi bộ, Ban Giám hiệu nhà trường đã ban hành {k} văn bản chỉ đạo, triển khai phong trào toàn dân bảo vệ "
        "an ninh Tổ quốc; phân công cụ thể trách nhiệm cho từng bộ phận, tổ chuyên môn.",
        "Nhà trường kiện toàn Ban Chỉ đạo công tác bảo đảm an ninh trật tự gồm {m} thành viên do Hiệu trưởng làm "
        "Trưởng ban; định kỳ hằng tháng có sơ kết, đánh giá và đề ra biện pháp khắc phục hạn chế.",
        "Nội dung bảo vệ ANTQ được đưa vào nghị quyết của chi bộ và kế hoạch năm học {sy}; việc thực hiện được "
        "gắn với đánh giá thi đua cuối năm của cán bộ, giáo viên, nhân viên.",
    ]),
    ("Công tác tuyên truyền, giáo dục, vận động", [
        "Tổ chức {k} buổi tuyên truyền, phổ biến pháp luật cho {staff} cán bộ, giáo viên, nhân viên và {pupils} "
        "học sinh; lồng ghép trong các tiết sinh hoạt dưới cờ, sinh hoạt lớp và họp phụ huynh.",
        "Phối hợp với Công an phường {ward} tổ chức chuyên đề về phòng ngừa, tố giác tội phạm, phòng chống "
        "bạo lực học đường và an toàn trên không gian mạng, thu hút {pct}% học sinh tham gia.",
        "Duy trì trang thông tin điện tử và nhóm Zalo phụ huynh để kịp thời thông tin, nhắc nhở các nội dung "
        "bảo đảm an ninh, trật tự trong và ngoài nhà trường.",
    ]),
    ("Xây dựng lực lượng nòng cốt bảo đảm an ninh, trật tự", [
        "Củng cố tổ bảo vệ gồm {m} nhân viên, phân công trực 24/24 giờ, có sổ nhật ký trực và sổ theo dõi "
        "khách ra vào trường; 100% nhân viên bảo vệ được tập huấn nghiệp vụ.",
        "Thành lập đội thanh niên xung kích và tổ tự quản của học sinh tham gia giữ gìn trật tự, vệ sinh khu "
        "vực cổng trường vào giờ cao điểm.",
    ]),
    ("Phòng ngừa, phát hiện, tố giác tội phạm và vi phạm pháp luật", [
        "Trong năm học không để xảy ra vụ việc phức tạp về an ninh, trật tự; không có cán bộ, giáo viên, nhân "
        "viên, học sinh vi phạm pháp luật hoặc mắc tệ nạn xã hội.",
        "Phối hợp với gia đình và chính quyền địa phương quản lý, giáo dục {k} học sinh có biểu hiện chậm tiến, "
        "kịp thời cảm hóa, giúp đỡ các em tiến bộ.",
        "Thực hiện nghiêm công tác bảo vệ bí mật nhà nước, quản lý tài sản, phòng chống cháy nổ; hệ thống "
        "camera giám sát gồm {m} mắt được duy trì hoạt động thường xuyên.",
    ]),
    ("Xây dựng trường học Xanh - Sạch - Đẹp - An toàn, phòng chống bạo lực học đường", [
        "Nhà trường duy trì danh hiệu trường học Xanh - Sạch - Đẹp - An toàn; khuôn viên được chăm sóc, cây xanh "
        "được cắt tỉa định kỳ, khu vệ sinh sạch sẽ.",
        "Thành lập tổ tư vấn tâm lý học đường, tiếp nhận và giải quyết {k} trường hợp học sinh cần hỗ trợ; không "
        "để xảy ra bạo lực học đường.",
        "Xây dựng và thực hiện Bộ quy tắc ứng xử văn hóa trong trường học; {pct}% lớp đạt danh hiệu lớp học an "
        "toàn, thân thiện.",
    ]),
    ("Phối hợp với Công an phường, gia đình và các lực lượng liên quan", [
        "Ký kết quy chế phối hợp với Công an phường {ward} về bảo đảm an ninh, trật tự trường học; tham gia đầy "
        "đủ các cuộc họp giao ban cụm an ninh trật tự.",
        "Ban đại diện cha mẹ học sinh phối hợp tốt với nhà trường trong việc đưa đón học sinh, giữ gìn trật tự "
        "an toàn giao thông trước cổng trường.",
    ]),
]


def _fill(text: str, facts: Facts, rng: random.Random, sy: str) -> str:
    return text.format(k=rng.randint(2, 12), m=rng.randint(3, 16), pct=rng.choice([95, 98, 100]),
                       staff=facts.staff, pupils=facts.pupils, ward=facts.ward, sy=sy)


def _bullets(rng: random.Random, facts: Facts, count: int) -> list[Block]:
    items = [
        "Số buổi tuyên truyền pháp luật: {k} buổi, {pupils} lượt học sinh tham dự.",
        "Số tin, bài đăng trên trang thông tin của trường: {m} tin, bài.",
        "Số vụ việc mất an ninh, trật tự xảy ra trong trường: 0 vụ.",
        "Số cán bộ, giáo viên được tập huấn kỹ năng xử lý tình huống: {k} người.",
        "Số lượt phụ huynh tham gia giữ trật tự cổng trường: {m} lượt.",
        "Số học sinh được tư vấn tâm lý: {k} em.",
        "Số lần kiểm tra, rà soát hệ thống phòng cháy, camera, khóa cửa: {m} lần.",
    ]
    picked = rng.sample(items, k=min(count, len(items)))
    return [Block("b", "- " + _fill(t, facts, rng, "")) for t in picked]


def _bao_cao(spec, school, facts, ctx, rng, d, other):
    y, unit, sy = spec.year, school.unit(), school_year(spec.year)
    per_criterion = 1 if spec.short else rng.randint(1, 3)
    bullets = 0 if spec.short else rng.randint(2, 7)
    subject = f"Kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm học {sy}"
    body = [
        Block("p", f"Thực hiện {plan_citation(y)} của {ctx.office} {ctx.place} về tiếp tục xây dựng cơ sở giáo dục "
                   f"điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc; căn cứ {_legal_basis(y)}, {unit} báo "
                   "cáo kết quả thực hiện như sau:"),
        Block("h", "I. ĐẶC ĐIỂM TÌNH HÌNH"),
        Block("p", f"Năm học {sy}, {unit} có {facts.staff} cán bộ, giáo viên, nhân viên; {facts.pupils} học sinh "
                   f"với {facts.classes} lớp. Trường đóng trên địa bàn phường {facts.ward}, {ctx.place}; tình hình "
                   "an ninh, trật tự xung quanh trường cơ bản ổn định."),
    ]
    if not spec.short:
        body.append(Block("p", "Thuận lợi: được sự quan tâm chỉ đạo của các cấp, sự phối hợp chặt chẽ của Công an "
                               "phường và Ban đại diện cha mẹ học sinh. Khó khăn: trường nằm gần tuyến đường đông "
                               "phương tiện, nhiều học sinh ở trọ, cha mẹ đi làm xa."))
    body.append(Block("h", "II. KẾT QUẢ THỰC HIỆN THEO BỘ TIÊU CHÍ"))
    for i, (name, paras) in enumerate(_CRITERIA, start=1):
        body.append(Block("h", f"{i}. Tiêu chí {i}: {name}"))
        for text in rng.sample(paras, k=min(per_criterion, len(paras))):
            body.append(Block("p", _fill(text, facts, rng, sy)))
        if i == 2 and other is not None:
            body.append(Block("p", f"Nhà trường tổ chức cho cán bộ quản lý, giáo viên học tập kinh nghiệm của "
                                   f"{other.unit()} trong công tác phối hợp giữ gìn an ninh, trật tự trường học."))
    if bullets:
        body.append(Block("h", "Số liệu cụ thể:"))
        body += _bullets(rng, facts, bullets)
    body += [
        Block("h", "III. ĐÁNH GIÁ CHUNG"),
        Block("p", "Ưu điểm: tập thể sư phạm đoàn kết, nhận thức đúng vai trò của phong trào toàn dân bảo vệ "
                   "ANTQ; các tiêu chí đều được triển khai đầy đủ, có hồ sơ minh chứng."),
        Block("p", "Hạn chế: một số hoạt động tuyên truyền còn hình thức; cơ sở vật chất phục vụ công tác bảo vệ "
                   "còn thiếu, cần được đầu tư thêm."),
        Block("h", "IV. TỰ ĐÁNH GIÁ VÀ ĐỀ NGHỊ"),
        Block("p", f"Đối chiếu Bộ tiêu chí, {unit} tự đánh giá đạt {rng.choice([6, 6, 5])}/6 tiêu chí, đủ điều "
                   f"kiện đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ năm {y} "
                   "(kèm theo Tờ trình và Biên bản họp xét của Hội đồng)."),
    ]
    if not spec.short:
        body.append(Block("p", "Phương hướng năm học tới: tiếp tục duy trì các mô hình hiệu quả, tăng cường phối "
                               "hợp với Công an phường và gia đình học sinh, nâng cao chất lượng tuyên truyền."))
    if spec.corrected:
        body.insert(1, Block("c", "(Báo cáo đã chỉnh sửa, bổ sung số liệu)"))
    body.append(Block("p", "Trên đây là báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ an "
                           f"ninh Tổ quốc năm học {sy} của {unit}./."))
    places = [f"- Phòng GD&ĐT {ctx.place};", "- Công an phường " + facts.ward + ";", "- Lưu: VT."]
    return ("BÁO CÁO", _split_subject(subject), None, body, places,
            [_head_signer_centre(school, facts, style_for(spec))])


def _bien_ban(spec, school, facts, ctx, rng, d, other):
    y, unit, sy = spec.year, school.unit(), school_year(spec.year)
    chair, chair_h = facts.principal
    sec, sec_h = facts.secretary
    members = rng.randint(7, 15)
    start_h = rng.choice([8, 9, 14, 15])
    subject = f"Họp xét, đề nghị công nhận đơn vị đạt điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm {y}"
    body = [
        Block("kv", f"Vào lúc {start_h} giờ 00 phút, ngày {d.day:02d} tháng {d.month} năm {y}.", "Thời gian:"),
        Block("kv", f"Phòng họp Hội đồng {unit}.", "Địa điểm:"),
        Block("kv", f"Hội đồng thi đua - khen thưởng của nhà trường gồm {members} thành viên, có mặt "
                    f"{members}/{members}.", "Thành phần:"),
        Block("kv", f"{chair_h} {chair} – {_head_role(school)}.", "Chủ trì:"),
        Block("kv", f"{sec_h} {sec} – Giáo viên.", "Thư ký:"),
        Block("h", "NỘI DUNG CUỘC HỌP"),
        Block("p", f"1. {chair_h} {chair} thông qua Báo cáo kết quả xây dựng đơn vị điển hình về phong trào toàn "
                   f"dân bảo vệ ANTQ năm học {sy} và dự thảo Tờ trình đề nghị công nhận."),
        Block("p", f"2. Hội đồng đối chiếu kết quả thực hiện với Bộ tiêu chí theo {_legal_basis(y)}."),
        Block("p", "3. Ý kiến thảo luận: các thành viên thống nhất đánh giá nhà trường thực hiện tốt công tác "
                   "tuyên truyền, phối hợp giữ gìn an ninh, trật tự; đề nghị bổ sung minh chứng về hoạt động của "
                   "tổ bảo vệ và tổ tư vấn học đường."),
        Block("p", f"4. Kết quả biểu quyết: {members}/{members} thành viên (đạt 100%) đồng ý đề nghị công nhận "
                   f"{unit} đạt đơn vị điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm {y}."),
        Block("p", f"Hội đồng giao bộ phận văn thư hoàn chỉnh hồ sơ gửi {ctx.office} {ctx.place} trước ngày "
                   f"10/10/{y}."),
        Block("p", f"Cuộc họp kết thúc vào lúc {start_h + 1} giờ 30 phút cùng ngày. Biên bản đã được thông qua "
                   "trước toàn thể thành viên dự họp và được thống nhất 100%./."),
    ]
    if not spec.short and rng.random() < 0.5:
        body.insert(9, Block("p", "Ý kiến bổ sung: đề nghị tiếp tục duy trì mô hình “Cổng trường an toàn” và tăng "
                                  "cường kiểm tra khách ra vào trường trong giờ học."))
    signers = [Signer(("THƯ KÝ",), sec), Signer(("CHỦ TỌA",), chair)]
    return ("BIÊN BẢN", _split_subject(subject), None, body, [], signers)


def _ke_hoach(spec, school, facts, ctx, rng, d, other):
    y, unit = spec.year, school.unit()
    sy = school_year(y, ahead=True)
    subject = f"Xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm học {sy}"
    body = [
        Block("p", f"Căn cứ {plan_citation(y)} của {ctx.office} {ctx.place};"),
        Block("p", f"Căn cứ tình hình thực tế của đơn vị, {unit} xây dựng Kế hoạch triển khai xây dựng cơ sở giáo "
                   "dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc như sau:"),
        Block("h", "I. MỤC ĐÍCH, YÊU CẦU"),
        Block("p", "Nâng cao nhận thức, trách nhiệm của cán bộ, giáo viên, nhân viên, học sinh và phụ huynh trong "
                   "công tác bảo vệ an ninh Tổ quốc, giữ gìn an ninh, trật tự trường học."),
        Block("p", "Việc triển khai phải thiết thực, phù hợp với điều kiện của đơn vị; gắn với phong trào thi đua "
                   "của nhà trường."),
        Block("h", "II. NỘI DUNG THỰC HIỆN"),
    ]
    for name, paras in rng.sample(_CRITERIA, k=4 if spec.short else 6):
        body.append(Block("b", f"- {name}: " + _fill(rng.choice(paras), facts, rng, sy)))
    body += [
        Block("h", "III. CHỈ TIÊU"),
        Block("p", "100% cán bộ, giáo viên, nhân viên và học sinh được tuyên truyền; không để xảy ra vụ việc phức "
                   "tạp về an ninh, trật tự; phấn đấu được công nhận đơn vị điển hình về phong trào toàn dân bảo "
                   "vệ ANTQ."),
        Block("h", "IV. TỔ CHỨC THỰC HIỆN"),
        Block("p", "Ban Giám hiệu chỉ đạo chung; tổ trưởng các tổ chuyên môn, giáo viên chủ nhiệm triển khai đến "
                   "từng lớp. Cuối năm, Hội đồng thi đua - khen thưởng họp xét, lập Biên bản; văn thư hoàn chỉnh "
                   f"Tờ trình và Báo cáo kết quả gửi {ctx.office} trước ngày 10/10."),
        Block("p", f"Trên đây là Kế hoạch xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ năm "
                   f"học {sy} của {unit}./."),
    ]
    places = [f"- Phòng GD&ĐT {ctx.place} (để báo cáo);", "- CB, GV, NV (để thực hiện);", "- Lưu: VT."]
    return ("KẾ HOẠCH", _split_subject(subject), None, body, places,
            [_head_signer_centre(school, facts, style_for(spec))])


_CAMPAIGN_WRITERS = {"to_trinh": _to_trinh, "bao_cao": _bao_cao, "bien_ban": _bien_ban, "ke_hoach": _ke_hoach}


# --------------------------------------------------------------------------- other campaigns

# Same form, other topic. Each topic names what it is about and a few
# paragraphs; at most ONE weak term of this campaign's vocabulary appears,
# as in real reports (drug prevention mentions "an ninh trật tự" once).
_TOPICS = {
    "ma_tuy": {
        "name": "công tác phòng, chống ma túy trong trường học",
        "types": ("bao_cao", "ke_hoach", "to_trinh"),
        "paras": [
            "Phối hợp với Công an phường {ward} tổ chức tuyên truyền về tác hại của ma túy, thuốc lá điện tử và "
            "các chất gây nghiện mới cho {pupils} học sinh.",
            "Hưởng ứng Tháng hành động phòng, chống ma túy và Ngày Quốc tế phòng, chống ma túy 26/6; tổ chức cho "
            "học sinh ký cam kết không sử dụng ma túy, thuốc lá điện tử.",
            "Lồng ghép nội dung giáo dục phòng, chống ma túy vào các môn Giáo dục công dân, Sinh học và hoạt động "
            "trải nghiệm; tổ chức {k} buổi ngoại khóa.",
            "Trong năm học không có cán bộ, giáo viên, nhân viên, học sinh liên quan đến ma túy; góp phần giữ gìn "
            "an ninh trật tự tại địa phương.",
            "Rà soát, nắm danh sách học sinh có nguy cơ, phối hợp với gia đình quản lý, giáo dục; không phát hiện "
            "trường hợp nào sử dụng chất gây nghiện.",
        ],
        "to_trinh": "Về việc đề nghị khen thưởng tập thể, cá nhân có thành tích trong công tác phòng, chống ma túy",
    },
    "pccc": {
        "name": "công tác phòng cháy, chữa cháy và cứu nạn, cứu hộ",
        "types": ("bao_cao", "ke_hoach", "to_trinh", "bien_ban"),
        "paras": [
            "Kiện toàn Đội phòng cháy, chữa cháy cơ sở gồm {m} thành viên; 100% thành viên được huấn luyện nghiệp "
            "vụ và cấp chứng nhận theo quy định.",
            "Phối hợp với Đội Cảnh sát PCCC&CNCH tổ chức diễn tập phương án chữa cháy và thoát nạn với sự tham gia "
            "của {pupils} học sinh.",
            "Trang bị {k} bình chữa cháy xách tay loại bột ABC và CO2, kiểm tra, nạp sạc định kỳ; hệ thống báo cháy "
            "tự động hoạt động tốt.",
            "Hệ thống điện được kiểm tra, thay thế dây dẫn xuống cấp; cấm sử dụng bếp điện, bếp gas trong phòng làm "
            "việc và lớp học.",
            "Tuyên truyền Luật Phòng cháy, chữa cháy và kỹ năng thoát hiểm trong các tiết sinh hoạt dưới cờ.",
        ],
        "to_trinh": "Về việc đề nghị cấp kinh phí bổ sung phương tiện phòng cháy, chữa cháy",
        "bien_ban": "Diễn tập phương án chữa cháy và cứu nạn, cứu hộ tại cơ sở",
    },
    "atgt": {
        "name": "công tác bảo đảm trật tự an toàn giao thông",
        "types": ("bao_cao", "ke_hoach"),
        "paras": [
            "100% học sinh đội mũ bảo hiểm đạt chuẩn khi ngồi trên xe mô tô, xe gắn máy, xe đạp điện; không có học "
            "sinh vi phạm luật giao thông bị lập biên bản.",
            "Phối hợp với Công an phường {ward} phân luồng giao thông giờ tan trường; duy trì mô hình “Cổng trường "
            "an toàn giao thông”.",
            "Phụ huynh không đậu xe lấn chiếm lòng đường trước cổng trường; đội cờ đỏ hỗ trợ học sinh qua đường.",
            "Tổ chức cuộc thi “Em yêu an toàn giao thông” với {k} đội tham gia; tuyên truyền văn hóa giao thông "
            "trong nhà trường.",
        ],
    },
    "ne_nep": {
        "name": "công tác kiểm tra nề nếp, chuyên cần và vệ sinh trường lớp",
        "types": ("bien_ban", "bao_cao"),
        "paras": [
            "Các lớp thực hiện tốt nề nếp đầu giờ, truy bài 15 phút; tỉ lệ chuyên cần đạt {pct}%.",
            "Sổ đầu bài, sổ điểm danh được ghi chép đầy đủ, đúng quy định; {k} lớp còn để bàn ghế chưa ngay ngắn.",
            "Vệ sinh lớp học, hành lang sạch sẽ; thùng rác được phân loại; nhà vệ sinh học sinh được dọn dẹp hai "
            "lần mỗi ngày.",
            "Đồng phục, đeo khăn quàng, bảng tên của học sinh đúng quy định; còn {k} học sinh đi học muộn.",
        ],
        "bien_ban": "Kiểm tra nề nếp, chuyên cần và vệ sinh trường lớp tháng 9",
    },
}


def topic_types(topic: str) -> tuple[str, ...]:
    """The document types schools send for another campaign's topic."""
    return _TOPICS[topic]["types"]


def _other_writer(spec: DocSpec):
    if spec.doc_type not in _TOPICS[spec.topic]["types"]:
        raise ValueError(f"no {spec.doc_type} for topic {spec.topic}")
    return _other_doc


def _other_doc(spec, school, facts, ctx, rng, d, other):
    topic = _TOPICS[spec.topic]
    y, unit, sy = spec.year, school.unit(), school_year(spec.year)
    paras = [Block("p", _fill(p, facts, rng, sy)) for p in rng.sample(topic["paras"], k=min(len(topic["paras"]),
                                                                                           2 if spec.short else 4))]
    signer = _head_signer_centre(school, facts, style_for(spec))
    places = [f"- Phòng GD&ĐT {ctx.place};", "- Lưu: VT."]
    if spec.doc_type == "bao_cao":
        subject = f"Kết quả {topic['name']} năm học {sy}"
        body = [Block("p", f"Thực hiện chỉ đạo của {ctx.office} {ctx.place}, {unit} báo cáo {topic['name']} "
                           "như sau:"),
                Block("h", "I. KẾT QUẢ THỰC HIỆN"), *paras,
                Block("h", "II. PHƯƠNG HƯỚNG"),
                Block("p", f"Tiếp tục thực hiện tốt {topic['name']} trong năm học {school_year(y, ahead=True)}."),
                Block("p", f"Trên đây là báo cáo {topic['name']} của {unit}./.")]
        return "BÁO CÁO", _split_subject(subject), None, body, places, [signer]
    if spec.doc_type == "ke_hoach":
        subject = f"Triển khai {topic['name']} năm học {school_year(y, ahead=True)}"
        body = [Block("p", f"Căn cứ tình hình thực tế, {unit} xây dựng kế hoạch {topic['name']} như sau:"),
                Block("h", "I. MỤC ĐÍCH, YÊU CẦU"), paras[0], Block("h", "II. NỘI DUNG"), *paras[1:],
                Block("h", "III. TỔ CHỨC THỰC HIỆN"),
                Block("p", "Ban Giám hiệu phân công cụ thể; các bộ phận báo cáo kết quả về nhà trường cuối học kỳ.")]
        return "KẾ HOẠCH", _split_subject(subject), None, body, places, [signer]
    if spec.doc_type == "to_trinh":
        body = [Block("p", f"Căn cứ kết quả {topic['name']} năm học {sy} của đơn vị;"), *paras[:2],
                Block("p", f"{unit} kính trình {ctx.office} {ctx.place} xem xét, giải quyết./.")]
        return ("TỜ TRÌNH", _split_subject(topic["to_trinh"]), f"Kính gửi: {ctx.office} {ctx.place}.", body,
                ["- Như trên;", "- Lưu: VT."], [signer])
    chair, chair_h = facts.principal
    sec, sec_h = facts.secretary
    body = [Block("kv", f"Vào lúc 8 giờ 00 phút, ngày {d.day:02d} tháng {d.month} năm {y}.", "Thời gian:"),
            Block("kv", f"{unit}.", "Địa điểm:"),
            Block("kv", f"{chair_h} {chair} – {_head_role(school)}; {sec_h} {sec} – Giáo viên và các bộ phận "
                        "liên quan.",
                  "Thành phần:"),
            Block("h", "NỘI DUNG"), *paras,
            Block("p", "Buổi làm việc kết thúc vào lúc 10 giờ 30 phút cùng ngày; biên bản được thông qua./.")]
    return ("BIÊN BẢN", _split_subject(topic["bien_ban"]), None, body, [],
            [Signer(("THƯ KÝ",), sec), Signer(("CHỦ TỌA",), chair)])


def _split_subject(subject: str) -> tuple[str, ...]:
    """Subject lines stay whole; the layout wraps them (kept as a tuple for
    documents that break the subject by hand)."""
    return (subject,)
