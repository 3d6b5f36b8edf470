"""The ``hard`` preset: what a real office receives besides the campaign's dossiers.

Written from the domain notes and the way schools, ward police, ward
committees and the Youth Union write (Nghị định 30/2020 layout), NOT from
the bot's rules: the classifier's phrase lists (rules/programmes.toml) were
not consulted for these texts, and some programmes here are on no list at
all (phòng chống tai nạn thương tích, tổng kết năm học, công tác thi đua
written as a report), as in a real mailbox.

Classes (each a message kind of the preset, see ``HardBuilder``):

- ``neighbour``: a roster school's document of a neighbouring programme
  that shares this campaign's words (Ngày hội toàn dân bảo vệ ANTQ, An toàn
  về an ninh trật tự, thi đua - khen thưởng, Xanh - Sạch - Đẹp, y tế, chuyển
  đổi số, bạo lực học đường, tai nạn thương tích, tổng kết năm học);
- ``other_issuer``: a document issued by Công an phường, UBND phường, the
  Đoàn or the office itself, forwarded by a school (alone, or beside its
  dossier);
- ``earlier_photo``: last year's dossier photographed again, its date line
  unreadable (smudged, cut off);
- ``photo_pages``: a genuine dossier photographed page by page on a phone
  (``IMG_<date>_<time>.jpg``, Zalo ``z<ms>_<hash>.jpg``, iOS ``image0.jpeg``);
  pages 2..n carry no title and are labelled as continuations
  (``"continues": <first page's file>``); in ``photos_mixed`` mails a later
  document's first page is photographed with the top of the sheet cut off
  (``head_unreadable``): a document of its own, not a page of the one before;
- ``spam2``: unrelated mail with attachments from unknown senders;
- ``flood``: a school's mail with dozens of evidence files (minh chứng): one
  review item expected.
"""
from __future__ import annotations

import hashlib
import io
import random
from dataclasses import replace
from datetime import date, datetime, timedelta

from reportlab.pdfgen import canvas

from . import messages as mail
from .content import (CAMPAIGN, Block, Context, DocContent, DocSpec, Signer, compose, format_date, person,
                      school_facts, school_year, style_for)
from .roster import School

# --------------------------------------------------------------------------- neighbouring programmes

_CODES = {"to_trinh": "TTr", "bao_cao": "BC", "bien_ban": "BB", "ke_hoach": "KH"}
_TITLES = {"to_trinh": "TỜ TRÌNH", "bao_cao": "BÁO CÁO", "bien_ban": "BIÊN BẢN", "ke_hoach": "KẾ HOẠCH"}

# Shared with this campaign: what any school report on security says in passing.
_SHARED = [
    "Nhà trường phối hợp chặt chẽ với Công an phường {ward} giữ vững an ninh chính trị, trật tự an toàn xã hội "
    "trong và ngoài trường học; tích cực hưởng ứng phong trào toàn dân bảo vệ an ninh Tổ quốc.",
    "Không để xảy ra vụ việc phức tạp về an ninh, trật tự; cán bộ, giáo viên, nhân viên chấp hành tốt chủ trương "
    "của Đảng, chính sách, pháp luật của Nhà nước.",
    "Công tác phòng ngừa, phát hiện, tố giác tội phạm được lồng ghép trong các buổi sinh hoạt dưới cờ; {pct}% học "
    "sinh được tuyên truyền về an ninh trật tự.",
]

# key -> label name (for the label only), types, subjects per type (variants), own paragraphs
NEIGHBOURS: dict[str, dict] = {
    "ngay_hoi": {
        "types": ("bao_cao", "ke_hoach"),
        "subjects": {
            "bao_cao": ["Kết quả tổ chức Ngày hội “Toàn dân bảo vệ an ninh Tổ quốc” năm {y}",
                        "Tổng kết Ngày hội Toàn dân bảo vệ ANTQ (19/8/{y}) tại đơn vị",
                        "Kết quả hưởng ứng ngày hội toàn dân BV ANTQ năm {y}"],
            "ke_hoach": ["Tổ chức Ngày hội “Toàn dân bảo vệ an ninh Tổ quốc” năm {y}",
                         "Hưởng ứng Ngày hội toàn dân bảo vệ ANTQ ngày 19 tháng 8 năm {y}"],
        },
        "paras": [
            "Nhân kỷ niệm {n} năm Ngày truyền thống Công an nhân dân (19/8), nhà trường tổ chức Ngày hội với sự "
            "tham gia của {staff} cán bộ, giáo viên, nhân viên và đại diện Ban đại diện cha mẹ học sinh.",
            "Chương trình gồm phần lễ (ôn lại truyền thống, biểu dương gương người tốt việc tốt) và phần hội (thi "
            "tìm hiểu pháp luật, văn nghệ, trò chơi dân gian).",
            "Tại Ngày hội, nhà trường khen thưởng {k} tập thể, cá nhân điển hình trong phong trào toàn dân bảo vệ "
            "ANTQ và ký kết chương trình phối hợp với Công an phường {ward}.",
            "Kinh phí tổ chức Ngày hội được trích từ nguồn xã hội hóa, bảo đảm tiết kiệm, trang trọng, an toàn.",
        ],
    },
    "an_toan_antt": {
        "types": ("to_trinh", "bien_ban", "bao_cao", "ke_hoach"),
        "subjects": {
            "to_trinh": ["Về việc đề nghị công nhận cơ sở giáo dục đạt tiêu chuẩn “An toàn về an ninh, trật tự” "
                         "năm {y}",
                         "V/v đề nghị kiểm tra, công nhận trường đạt chuẩn an toàn về an ninh, trật tự năm {y}"],
            "bien_ban": ["Họp xét, đề nghị công nhận đạt tiêu chuẩn “An toàn về an ninh, trật tự” năm {y}"],
            "bao_cao": ["Kết quả tự đánh giá theo tiêu chuẩn “An toàn về an ninh, trật tự” (Thông tư số "
                        "124/2021/TT-BCA) năm {y}",
                        "Kết quả thực hiện tiêu chí an toàn về ANTT trong trường học năm học {sy}"],
            "ke_hoach": ["Thực hiện Kế hoạch số 2410/KH-UBND về xây dựng cơ sở giáo dục đạt chuẩn an toàn về "
                         "an ninh, trật tự năm học {sy1}"],
        },
        "paras": [
            "Căn cứ Thông tư số 124/2021/TT-BCA ngày 28/12/2021 của Bộ Công an quy định về khu dân cư, xã, phường, "
            "thị trấn, cơ quan, doanh nghiệp, cơ sở giáo dục đạt tiêu chuẩn “An toàn về an ninh, trật tự”;",
            "Đối chiếu 04 tiêu chuẩn theo quy định, nhà trường tự đánh giá đạt {k4}/4 tiêu chuẩn; hồ sơ tự đánh "
            "giá đã được Công an phường {ward} kiểm tra, xác nhận.",
            "Tổ bảo vệ gồm {m} người, trực 24/24 giờ; có nội quy ra vào cổng, sổ theo dõi khách; camera giám sát "
            "được lắp đặt tại các vị trí trọng yếu.",
            "Trong năm không có vụ việc mất an ninh, trật tự, không có cán bộ, giáo viên, học sinh vi phạm pháp "
            "luật bị xử lý hình sự.",
        ],
    },
    "thi_dua": {
        "types": ("to_trinh", "bien_ban", "bao_cao"),
        "subjects": {
            "to_trinh": ["Về việc đề nghị công nhận danh hiệu “Tập thể Lao động tiên tiến” năm học {sy}",
                         "V/v đề nghị xét tặng Giấy khen của Chủ tịch UBND Quận cho tập thể và cá nhân có thành tích "
                         "năm học {sy}",
                         "Đề nghị công nhận danh hiệu “Chiến sĩ thi đua cơ sở” và “Lao động tiên tiến” năm học {sy}"],
            "bien_ban": ["Họp Hội đồng Thi đua - Khen thưởng xét danh hiệu thi đua cuối năm học {sy}",
                         "Họp xét đề nghị khen thưởng tổng kết năm học {sy}"],
            "bao_cao": ["Tổng kết công tác thi đua, khen thưởng năm học {sy}"],
        },
        "paras": [
            "Hội đồng Thi đua - Khen thưởng nhà trường gồm {m} thành viên đã họp xét trên cơ sở kết quả đánh giá, "
            "xếp loại viên chức và thành tích của từng tổ chuyên môn.",
            "Kết quả: {k} cá nhân đạt danh hiệu Lao động tiên tiến, {k2} cá nhân đạt Chiến sĩ thi đua cơ sở; tập "
            "thể nhà trường đủ điều kiện đề nghị danh hiệu Tập thể Lao động tiên tiến.",
            "Các cá nhân được đề nghị đều hoàn thành xuất sắc nhiệm vụ, có sáng kiến được Hội đồng khoa học công "
            "nhận, tích cực tham gia các phong trào thi đua của ngành.",
        ],
    },
    "xanh_sach_dep": {
        "types": ("bao_cao", "ke_hoach"),
        "subjects": {
            "bao_cao": ["Kết quả xây dựng trường học “Xanh - Sạch - Đẹp - An toàn” năm học {sy}"],
            "ke_hoach": ["Xây dựng cảnh quan môi trường sư phạm “Xanh, sạch, đẹp, an toàn” năm học {sy1}"],
        },
        "paras": [
            "Trồng mới {k} cây xanh, chăm sóc bồn hoa, vườn trường; khuôn viên luôn sạch sẽ, thoáng mát.",
            "Tổ chức lao động vệ sinh trường lớp hằng tuần; phân loại rác tại nguồn, hạn chế rác thải nhựa.",
            "Cơ sở vật chất được kiểm tra định kỳ, bảo đảm an toàn cho học sinh trong giờ học và giờ ra chơi.",
        ],
    },
    "y_te": {
        "types": ("bao_cao", "ke_hoach"),
        "subjects": {
            "bao_cao": ["Công tác y tế trường học năm học {sy}"],
            "ke_hoach": ["Tổ chức khám sức khỏe định kỳ cho học sinh năm học {sy1}"],
        },
        "paras": [
            "Phối hợp Trạm Y tế phường {ward} khám sức khỏe cho {pupils} học sinh; lập sổ theo dõi sức khỏe từng em.",
            "Bảo đảm vệ sinh an toàn thực phẩm tại bếp ăn bán trú; không để xảy ra ngộ độc thực phẩm.",
            "Tỉ lệ học sinh tham gia bảo hiểm y tế đạt {pct}%.",
        ],
    },
    "chuyen_doi_so": {
        "types": ("ke_hoach", "bao_cao"),
        "subjects": {
            "ke_hoach": ["Ứng dụng công nghệ thông tin và chuyển đổi số năm học {sy1}"],
            "bao_cao": ["Kết quả thực hiện chuyển đổi số trong nhà trường năm học {sy}"],
        },
        "paras": [
            "Triển khai sổ điểm điện tử, học bạ số cho {k} lớp; 100% giáo viên sử dụng phần mềm quản lý trường học.",
            "Bảo đảm an toàn thông tin: tài khoản được cấp riêng cho từng cán bộ, giáo viên; sao lưu dữ liệu định kỳ.",
        ],
    },
    "bao_luc": {
        "types": ("bao_cao", "ke_hoach"),
        "subjects": {
            "bao_cao": ["Kết quả thực hiện công tác phòng, chống bạo lực học đường năm học {sy}"],
            "ke_hoach": ["Xây dựng trường học an toàn, thân thiện, phòng chống bạo lực học đường năm học {sy1}"],
        },
        "paras": [
            "Thành lập tổ tư vấn tâm lý học đường, tiếp nhận và hỗ trợ {k} trường hợp học sinh có khó khăn.",
            "Công khai đường dây nóng để học sinh, phụ huynh phản ánh; xử lý kịp thời các mâu thuẫn của học sinh.",
        ],
    },
    # On nobody's list: the bot must not count them, and ideally not review them either.
    "tai_nan": {
        "types": ("ke_hoach",),
        "subjects": {"ke_hoach": ["Phòng, chống tai nạn thương tích và đuối nước cho học sinh năm học {sy1}"]},
        "paras": [
            "Rà soát, sửa chữa các hạng mục có nguy cơ mất an toàn: lan can, cửa sổ, hệ thống điện, cây xanh.",
            "Phối hợp với cha mẹ học sinh quản lý con em trong dịp nghỉ hè, không để học sinh tắm sông, kênh rạch.",
        ],
    },
    "tong_ket": {
        "types": ("bao_cao",),
        "subjects": {"bao_cao": ["Tổng kết năm học {sy} và phương hướng, nhiệm vụ năm học {sy1}"]},
        "paras": [
            "Quy mô trường lớp: {k} lớp với {pupils} học sinh; tỉ lệ học sinh lên lớp đạt {pct}%.",
            "Đội ngũ: {staff} cán bộ, giáo viên, nhân viên; 100% đạt chuẩn trình độ đào tạo.",
            "Công tác bảo đảm an ninh trật tự, an toàn trường học được duy trì, không có vụ việc phức tạp.",
        ],
    },
}

# --------------------------------------------------------------------------- other issuers

OTHER_ISSUERS = {
    # key: (label issuer, parent line, issuer line template, number template, type, subjects, paras)
    "issuer_cap": ("Công an phường", "CÔNG AN QUẬN 12", "CÔNG AN PHƯỜNG {WARD}", "Số: {n}/KH-CAP", "ke_hoach",
                   ["Phối hợp với các cơ sở giáo dục trên địa bàn xây dựng điển hình về phong trào toàn dân bảo "
                    "vệ ANTQ năm {y}",
                    "Tuyên truyền, vận động phong trào toàn dân bảo vệ an ninh Tổ quốc trong trường học năm {y}"]),
    "issuer_ubnd": ("UBND phường", "ỦY BAN NHÂN DÂN", "PHƯỜNG {WARD}", "Số: {n}/KH-UBND", "ke_hoach",
                    ["Triển khai thực hiện phong trào toàn dân bảo vệ ANTQ trên địa bàn phường năm {y}",
                     "Xây dựng mô hình điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm {y}"]),
    "issuer_doan": ("Đoàn phường", "ĐOÀN TNCS HỒ CHÍ MINH", "BCH ĐOÀN PHƯỜNG {WARD}", "Số: {n}-KH/ĐP", "ke_hoach",
                    ["Đoàn viên, thanh niên tham gia phong trào toàn dân bảo vệ ANTQ năm {y}"]),
    "issuer_office": ("Phòng GD&ĐT", "ỦY BAN NHÂN DÂN QUẬN 12", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                      "Số: 887/KH-GDĐT", "ke_hoach",
                      ["Tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc "
                       "năm {y}"]),
    # The same plan photocopied or scanned by a school: the top-left block faded
    # (or under the school's "ĐẾN" stamp), so neither the issuer line nor the
    # number can be read; the title, the trích yếu and the body can.
    "issuer_office_faded": ("Phòng GD&ĐT", "", "", "", "ke_hoach",
                            ["Tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ "
                             "quốc năm {y}",
                             "Triển khai xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ ANTQ năm "
                             "{y}"]),
}

OFFICE_TOPICS = ("issuer_office", "issuer_office_faded")

_ISSUER_PARAS = [
    "Phát huy sức mạnh tổng hợp của cả hệ thống chính trị và quần chúng nhân dân trong phong trào toàn dân bảo "
    "vệ ANTQ; xây dựng, nhân rộng các mô hình tự quản về an ninh, trật tự.",
    "Các đơn vị, trường học trên địa bàn phối hợp tổ chức tuyên truyền, phổ biến pháp luật cho cán bộ, giáo "
    "viên, học sinh; kịp thời cung cấp thông tin, tố giác tội phạm.",
    "Định kỳ 6 tháng, các đơn vị báo cáo kết quả thực hiện về cơ quan chủ trì để tổng hợp.",
]

HARD_TOPICS = frozenset(NEIGHBOURS) | frozenset(OTHER_ISSUERS) | {"antq_smudged"}


def compose_hard(spec: DocSpec, ctx: Context) -> DocContent:
    """The content of a document of the hard preset (``spec.topic`` in ``HARD_TOPICS``)."""
    if spec.topic == "antq_smudged":
        return _smudged(spec, ctx)
    school = ctx.roster[spec.school]
    facts = school_facts(school, spec.year)
    rng = random.Random(f"hard:{spec}")
    style = style_for(spec)
    y = spec.year
    fill = dict(y=y, sy=school_year(y), sy1=school_year(y, ahead=True), ward=facts.ward, staff=facts.staff,
                pupils=facts.pupils, pct=rng.randint(92, 100), k=rng.randint(3, 30), k2=rng.randint(2, 6),
                k4=4, m=rng.randint(3, 12), n=rng.choice([78, 79]), WARD=facts.ward.upper())
    d = date(y, 9, rng.randint(5, 28)) if spec.topic != "ngay_hoi" else date(y, 8, rng.randint(21, 30))
    nation = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập - Tự do - Hạnh phúc"
    if spec.topic in OFFICE_TOPICS:
        return _office_plan(spec, ctx, rng, fill)
    if spec.topic in OTHER_ISSUERS:
        _, parent, issuer, number, _, subjects, *_ = OTHER_ISSUERS[spec.topic]
        subject = rng.choice(subjects).format(**fill)
        body = [Block("p", f"Căn cứ tình hình thực tế, {issuer.format(**fill).title()} xây dựng kế hoạch như sau:"),
                Block("h", "I. MỤC ĐÍCH, YÊU CẦU"), Block("p", _ISSUER_PARAS[0]),
                Block("h", "II. NỘI DUNG"), *(Block("p", p) for p in _ISSUER_PARAS[1:]),
                Block("h", "III. TỔ CHỨC THỰC HIỆN"),
                Block("p", "Giao các đơn vị căn cứ kế hoạch này triển khai thực hiện, báo cáo kết quả đúng thời gian "
                           "quy định./.")]
        name, _ = person(rng)
        signer = Signer(("TRƯỞNG CÔNG AN PHƯỜNG",) if "CAP" in number else
                        ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH") if "UBND" in number else
                        ("TM. BAN CHẤP HÀNH", "BÍ THƯ") if "ĐP" in number else ("TRƯỞNG PHÒNG",), name)
        return DocContent(spec=spec, style=style, parent=parent.format(**fill), issuer=issuer.format(**fill),
                          number=number.format(n=rng.randint(12, 240)), nation=nation, motto=motto,
                          place_date=format_date(f"Phường {facts.ward}" if "WARD" in issuer else ctx.place, d),
                          title="KẾ HOẠCH", subject=(subject,), recipient=None, body=tuple(body),
                          places=("- Các trường học trên địa bàn;", "- Lưu: VT."), signers=(signer,), doc_date=d)
    topic = NEIGHBOURS[spec.topic]
    subject = rng.choice(topic["subjects"][spec.doc_type]).format(**fill)
    own = [Block("p", p.format(**fill)) for p in rng.sample(topic["paras"], k=min(3, len(topic["paras"])))]
    shared = [Block("p", p.format(**fill)) for p in rng.sample(_SHARED, k=rng.choice([1, 2]))]
    unit = school.unit()
    if spec.doc_type == "to_trinh":
        body = [Block("p", f"Căn cứ kết quả thực hiện nhiệm vụ năm học {fill['sy']} của {unit};"), *own, *shared,
                Block("p", f"{unit} kính trình xem xét, quyết định./.")]
        recipient = f"Kính gửi: {ctx.office} {ctx.place}."
    elif spec.doc_type == "bien_ban":
        chair, chair_h = facts.principal
        sec, _ = facts.secretary
        body = [Block("kv", f"Vào lúc 14 giờ 00 phút, ngày {d.day:02d} tháng {d.month} năm {y}.", "Thời gian:"),
                Block("kv", f"Phòng họp {unit}.", "Địa điểm:"),
                Block("kv", f"{chair_h} {chair} – Hiệu trưởng.", "Chủ trì:"),
                Block("kv", f"{sec} – Giáo viên.", "Thư ký:"),
                Block("h", "NỘI DUNG"), *own, *shared,
                Block("p", "Cuộc họp kết thúc vào lúc 16 giờ cùng ngày; biên bản được thông qua./.")]
        recipient = None
    else:
        lead = "báo cáo" if spec.doc_type == "bao_cao" else "xây dựng kế hoạch"
        body = [Block("p", f"Thực hiện chỉ đạo của cấp trên, {unit} {lead} như sau:"),
                Block("h", "I. KẾT QUẢ" if spec.doc_type == "bao_cao" else "I. NỘI DUNG"), *own,
                Block("h", "II. CÔNG TÁC PHỐI HỢP"), *shared,
                Block("p", f"Trên đây là {lead.split()[-1]} của {unit}./.")]
        recipient = None
    signers = ((Signer(("THƯ KÝ",), facts.secretary[0]), Signer(("CHỦ TỌA",), facts.principal[0]))
               if spec.doc_type == "bien_ban" else (Signer(("HIỆU TRƯỞNG",), facts.principal[0]),))
    return DocContent(spec=spec, style=style, parent=school.parent(ctx.place, style.parent_style),
                      issuer=school.issuer(style.full_issuer),
                      number=f"Số: {facts.numbers[spec.doc_type] + 40:02d}/{_CODES[spec.doc_type]}-"
                             f"{school.abbreviation}",
                      nation=nation, motto=motto, place_date=format_date(ctx.place, d), title=_TITLES[spec.doc_type],
                      subject=(subject,), recipient=recipient, body=tuple(body),
                      places=() if spec.doc_type == "bien_ban" else (f"- Phòng GD&ĐT {ctx.place};", "- Lưu: VT."),
                      signers=signers, doc_date=d)


def _smudged(spec: DocSpec, ctx: Context) -> DocContent:
    """Last year's dossier document whose date line cannot be read on the photo."""
    base = compose(replace(spec, topic=CAMPAIGN), ctx)
    rng = random.Random(f"smudge:{spec}")
    place = ctx.place
    date_line = rng.choice([f"{place}, ngày .... tháng .... năm 20....", f"{place}, ngày      tháng      năm",
                            "", f"{place}, ng▒▒ ▒▒ th▒▒▒ ▒ n▒▒ ▒▒▒▒"])
    return replace(base, spec=spec, place_date=date_line)


# The office's own plan, written after Kế hoạch 887/KH-GDĐT (shared/reference): the
# office speaks as the author and gives the schools their tasks. Variants of
# each sentence, as the office rewrites its plan from year to year.
_OFFICE_AUTHOR = [
    "Căn cứ chức năng, nhiệm vụ được giao, Phòng Giáo dục và Đào tạo xây dựng Kế hoạch triển khai thực hiện công "
    "tác xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc như sau:",
    "Phòng Giáo dục và Đào tạo {place} xây dựng Kế hoạch tiếp tục xây dựng cơ sở giáo dục điển hình về phong trào "
    "toàn dân bảo vệ an ninh Tổ quốc năm {y} như sau:",
    "Căn cứ tình hình thực tế, Phòng GD&ĐT ban hành Kế hoạch triển khai xây dựng cơ sở giáo dục điển hình về phong "
    "trào toàn dân bảo vệ ANTQ như sau:",
]
_OFFICE_PURPOSE = [
    "Cụ thể hóa các chủ trương của Đảng, Nhà nước về công tác xây dựng phong trào toàn dân bảo vệ an ninh Tổ quốc.",
    "Phát huy vai trò, trách nhiệm của cấp ủy Đảng, cán bộ, công chức, viên chức, người lao động tham gia công tác "
    "xây dựng phong trào toàn dân bảo vệ An ninh Tổ quốc (ANTQ), góp phần bảo đảm an ninh, trật tự (ANTT).",
    "Quá trình triển khai, thực hiện phải đảm bảo khoa học, phù hợp với thực tiễn, có trọng tâm, trọng điểm; từ "
    "các điển hình để tạo hiệu ứng thi đua lan tỏa phong trào toàn dân bảo vệ ANTQ.",
]
_OFFICE_CONTENT = [
    "Thủ trưởng đơn vị nhận thức đầy đủ ý nghĩa, tầm quan trọng của công tác vận động cán bộ, giáo viên, nhân "
    "viên và phụ huynh học sinh là biện pháp cơ bản, chiến lược bảo đảm ANTT.",
    "Hàng năm tổ chức tự kiểm tra, đánh giá việc xây dựng và thực hiện hồ sơ đề nghị công nhận đơn vị điển hình "
    "về phong trào toàn dân bảo vệ ANTQ.",
    "Chỉ tiêu cụ thể: phấn đấu 100% các cơ sở giáo dục được công nhận “Trường học điển hình về phong trào toàn dân "
    "bảo vệ an ninh Tổ quốc”.",
    "Hồ sơ đề nghị xét, công nhận gồm: Tờ trình đề nghị công nhận của thủ trưởng đơn vị; Báo cáo kết quả xây dựng "
    "đơn vị điển hình; Biên bản họp xét, đề nghị đơn vị đạt điển hình.",
]
_OFFICE_TASKS = [
    "- Chỉ đạo các trường đẩy mạnh tuyên truyền, vận động cán bộ, giáo viên, nhân viên, phụ huynh học sinh tham "
    "gia bảo vệ ANTT tại cơ sở.",
    "- Vận động các cơ sở giáo dục đăng ký thực hiện điển hình trong phong trào toàn dân bảo vệ ANTQ.",
    "- Tổng hợp gửi báo cáo về Sở Giáo dục và Đào tạo, Ban Chỉ đạo 138 {place} trước ngày 15/10 hàng năm.",
]
_SCHOOL_TASKS = [
    "- Căn cứ vào tình hình thực tế xây dựng kế hoạch triển khai việc xây dựng cơ sở giáo dục điển hình về phong "
    "trào toàn dân bảo vệ an ninh Tổ quốc.",
    "- Tăng cường công tác tuyên truyền vận động đội ngũ tham gia xây dựng đơn vị điển hình về phong trào toàn dân "
    "bảo vệ ANTQ.",
    "- Thực hiện báo cáo hằng năm trước ngày 10/10 qua thư điện tử của Phòng.",
]
_OFFICE_CLOSING = [
    "Trên đây là Kế hoạch triển khai thực hiện công tác xây dựng cơ sở giáo dục điển hình về phong trào toàn dân "
    "bảo vệ an ninh Tổ quốc của Phòng Giáo dục và Đào tạo. Đề nghị các đơn vị nghiêm túc triển khai thực hiện./.",
    "Đề nghị Thủ trưởng các cơ sở giáo dục triển khai thực hiện nghiêm túc Kế hoạch này./.",
]
# A faded top-left block, as OCR sees it (nothing, or shades).
_FADED = ["", "▒▒▒▒▒ ▒▒▒▒ ▒▒▒ ▒▒ ▒▒▒▒ ▒▒▒", "PH▒▒▒ ▒▒▒▒ ▒▒▒ ▒▒ ▒▒▒▒ ▒▒▒"]
_FADED_NUMBER = ["", "Số: ▒▒▒ /▒▒-▒▒▒▒", "Số:       /KH-"]


def _office_plan(spec: DocSpec, ctx: Context, rng: random.Random, fill: dict) -> DocContent:
    """The office's own plan (``issuer_office``), or the same with its head faded (``issuer_office_faded``)."""
    _, parent, issuer, number, _, subjects, *_ = OTHER_ISSUERS[spec.topic]
    fill = {**fill, "place": ctx.place}
    d = date(spec.year, 7, rng.randint(3, 25))  # the plan opens the campaign in July
    body = [Block("p", f"Căn cứ Kế hoạch số {rng.randint(3000, 3900)}/KH-SGDĐT ngày 06/7/{spec.year} của Sở Giáo "
                       "dục và Đào tạo về việc xây dựng cơ sở giáo dục điển hình về phong trào toàn dân bảo vệ an "
                       "ninh Tổ quốc;"),
            Block("p", rng.choice(_OFFICE_AUTHOR).format(**fill)),
            Block("h", "I. MỤC ĐÍCH, YÊU CẦU"), *(Block("p", p) for p in rng.sample(_OFFICE_PURPOSE, k=2)),
            Block("h", "II. NỘI DUNG THỰC HIỆN"), *(Block("p", p) for p in rng.sample(_OFFICE_CONTENT, k=3)),
            Block("h", "III. TỔ CHỨC THỰC HIỆN"), Block("h", "1. Phòng Giáo dục và Đào tạo:"),
            *(Block("b", t.format(**fill)) for t in rng.sample(_OFFICE_TASKS, k=2)),
            Block("h", "2. Các cơ sở giáo dục:"), *(Block("b", t) for t in rng.sample(_SCHOOL_TASKS, k=2)),
            Block("p", rng.choice(_OFFICE_CLOSING))]
    name, _ = person(rng)
    signer = Signer(rng.choice([("TRƯỞNG PHÒNG",), ("KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG")]), name)
    if spec.topic == "issuer_office_faded":
        parent, issuer, number = "", rng.choice(_FADED), rng.choice(_FADED_NUMBER)
    return DocContent(spec=spec, style=style_for(spec), parent=parent, issuer=issuer, number=number,
                      nation="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", motto="Độc lập - Tự do - Hạnh phúc",
                      place_date=format_date(ctx.place, d), title="KẾ HOẠCH",
                      subject=(rng.choice(subjects).format(**fill),), recipient=None, body=tuple(body),
                      places=("- Sở GD&ĐT;", "- BCĐ 138 quận;", "- Các cơ sở giáo dục;", "- Lưu: VT."),
                      signers=(signer,), doc_date=d)


def is_hard_topic(topic: str) -> bool:
    return topic in HARD_TOPICS


# --------------------------------------------------------------------------- small files

def text_pdf(lines: list[str]) -> bytes:
    """A one-page ASCII PDF (spam, evidence lists)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    y = 780
    c.setFont("Helvetica-Bold", 14)
    for i, line in enumerate(lines):
        c.drawString(60, y, line)
        if i == 0:
            c.setFont("Helvetica", 11)
        y -= 22
    c.showPage()
    c.save()
    return buf.getvalue()


SPAM2 = [
    ("Bản tin Thiết bị giáo dục tháng 10", "Kinh gui Quy Thay Co, cong ty gui ban tin san pham moi.",
     "tintuc@thietbi-giaoduc.example", "BanTin_T10.pdf",
     ["BAN TIN THIET BI GIAO DUC", "Bang tuong tac thong minh 86 inch - gia uu dai", "Lien he: 0909 000 111"]),
    ("Thông báo sao kê tài khoản", "Quy khach vui long xem sao ke dinh kem.", "saoke@nganhang-abc.example",
     "SaoKe_092023.pdf", ["SAO KE TAI KHOAN", "Ky sao ke: 01/09 - 30/09", "So du cuoi ky: 15.230.000 VND"]),
    ("Thư mời hội thảo giới thiệu sách tham khảo", "Tran trong kinh moi Quy Truong tham du hoi thao.",
     "sukien@nhasach-minhtri.example", "ThuMoi_HoiThao.pdf",
     ["THU MOI", "Hoi thao gioi thieu sach tham khao nam hoc moi", "Dia diem: Khach san Sai Gon"]),
    ("Re: Đơn hàng #45821 đã giao", "Don hang cua ban da duoc giao thanh cong. Hoa don dinh kem.",
     "donhang@shop-vanphongpham.example", "HoaDon_45821.pdf",
     ["HOA DON BAN HANG", "Giay A4 Double A - 20 ram", "Tong cong: 1.850.000 VND"]),
]


def evidence_files(school: School, count: int) -> list[mail.FileAttachment]:
    """Evidence files (minh chứng) a school attaches by the dozen."""
    topics = ["So theo doi khach ra vao", "Danh sach to bao ve", "Hinh anh tuyen truyen", "Quyet dinh thanh lap BCD",
              "Bien ban phoi hop voi Cong an phuong", "Ke hoach truc bao ve", "Danh sach hoc sinh ky cam ket"]
    out = []
    for k in range(1, count + 1):
        title = topics[k % len(topics)]
        data = text_pdf([f"MINH CHUNG SO {k:02d}", title, ascii_name(school.name)])
        out.append(mail.FileAttachment(f"Minh chung {k:02d}.pdf", data, "application/pdf"))
    return out


def ascii_name(text: str) -> str:
    from .wording import ascii_fold
    return ascii_fold(text)


def photo_names(style: str, start: datetime, pages: int, rng: random.Random, first_index: int = 0) -> list[str]:
    """File names a phone gives page photos: camera, Zalo, or iOS Mail's image0.jpeg."""
    names, moment = [], start
    for k in range(pages):
        moment += timedelta(seconds=rng.randint(6, 40))
        if style == "camera":
            names.append(f"IMG_{moment:%Y%m%d_%H%M%S}.jpg")
        elif style == "zalo":
            stamp = int(moment.timestamp() * 1000) + rng.randint(0, 999)
            names.append(f"z{stamp}_{hashlib.md5(f'{stamp}{k}'.encode()).hexdigest()}.jpg")
        else:
            names.append(f"image{first_index + k}.jpeg")
    return names
