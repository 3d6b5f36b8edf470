"""What people write around the documents: file names, subjects, bodies."""
from __future__ import annotations

import random
import unicodedata

from .content import DocSpec
from .roster import School

# File name stems by naming habit and document type.
_VN = {"to_trinh": "Tờ trình đề nghị công nhận điển hình ANTQ",
       "bao_cao": "Báo cáo kết quả xây dựng đơn vị điển hình ANTQ",
       "bien_ban": "Biên bản họp xét đề nghị điển hình ANTQ",
       "ke_hoach": "Kế hoạch xây dựng cơ sở giáo dục điển hình ANTQ"}
_SHORT = {"to_trinh": "Tờ trình", "bao_cao": "Báo cáo", "bien_ban": "Biên bản", "ke_hoach": "Kế hoạch"}
_ASCII = {"to_trinh": "TTr", "bao_cao": "BC", "bien_ban": "BB", "ke_hoach": "KH"}
_ORDER = {"to_trinh": 1, "bao_cao": 2, "bien_ban": 3, "ke_hoach": 4}
_TOPIC_WORDS = {"ma_tuy": "phòng chống ma túy", "pccc": "PCCC", "atgt": "ATGT", "ne_nep": "kiểm tra nề nếp",
                # the hard preset (hard.py)
                "ngay_hoi": "Ngày hội ANTQ", "an_toan_antt": "An toàn ANTT", "thi_dua": "thi đua",
                "xanh_sach_dep": "XSĐ", "y_te": "y tế", "chuyen_doi_so": "CĐS", "bao_luc": "bạo lực học đường",
                "tai_nan": "TNTT", "tong_ket": "tổng kết năm học", "issuer_cap": "CA phường",
                "issuer_ubnd": "UBND phường", "issuer_doan": "Đoàn phường", "issuer_office": "PGD",
                "issuer_office_faded": "PGD", "antq_smudged": ""}
NAMINGS = ("vn", "numbered", "ascii", "school", "meaningless")


def ascii_fold(text: str) -> str:
    """Vietnamese without diacritics ("Nguyễn Hiền" -> "Nguyen Hien")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c))


def stem(spec: DocSpec, school: School, naming: str, index: int, rng: random.Random) -> str:
    """A file name without extension, as a school clerk would type it."""
    topic = "" if spec.topic in ("antq", "antq_smudged") else " " + _TOPIC_WORDS[spec.topic]
    year = f" {spec.year}" if rng.random() < 0.4 else ""
    if naming == "meaningless":
        return rng.choice([f"scan{index:04d}", f"document{index if index > 1 else ''}", f"Doc{index}",
                           "New Microsoft Word Document" + (f" ({index})" if index > 1 else ""),
                           f"tai lieu {index}"])
    if naming == "numbered":
        return f"{_ORDER[spec.doc_type]}. {_SHORT[spec.doc_type]}{topic}"
    if naming == "ascii":
        base = ascii_fold(_SHORT[spec.doc_type]).upper() if rng.random() < 0.5 else _ASCII[spec.doc_type]
        return f"{base}{ascii_fold(topic).upper() or ' ANTQ'} {school.abbreviation}{year}".replace("Đ", "D")
    if naming == "school":
        return f"{_SHORT[spec.doc_type]}{topic or ' ANTQ'} - {school.name}{year}"
    if topic:
        return f"{_SHORT[spec.doc_type]}{topic}{year}"
    return _VN[spec.doc_type] + year + (" (đã sửa)" if spec.corrected else "")


def unique(names: list[str]) -> list[str]:
    """Make names unique within a message the way Windows does: "x (2).pdf"."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        key = name.casefold()
        if key in seen:
            seen[key] += 1
            base, dot, ext = name.rpartition(".")
            name = f"{base} ({seen[key]}).{ext}" if dot else f"{name} ({seen[key]})"
        else:
            seen[key] = 1
        out.append(name)
    return out


def submission_subject(school: School, year: int, rng: random.Random) -> str:
    return rng.choice([
        f"Hồ sơ đề nghị công nhận điển hình ANTQ - {school.name}",
        f"{school.name} gửi hồ sơ ANTQ năm {year}",
        "V/v nộp hồ sơ đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ ANTQ",
        f"HO SO ANTQ {ascii_fold(school.name).upper()}",
        "Gửi cô Mai hồ sơ ANTQ",
        f"[{school.abbreviation}] Hồ sơ điển hình phong trào toàn dân bảo vệ ANTQ",
        "hồ sơ antq",
    ])


def submission_body(school: School, year: int, types: list[str], rng: random.Random, names_school: bool) -> str:
    listed = ", ".join(_SHORT[t] for t in types)
    if not names_school:
        return rng.choice(["Em gửi hồ sơ ANTQ ạ.", "Dạ em chào cô, em gửi hồ sơ điển hình ANTQ. Cô nhận giúp em "
                           "nhé. Em cảm ơn cô!", f"Gửi cô hồ sơ gồm {listed}."])
    return rng.choice([
        f"Kính gửi Cô Mai,\n\n{school.unit()} gửi hồ sơ đề nghị công nhận cơ sở giáo dục điển hình về phong trào "
        f"toàn dân bảo vệ an ninh Tổ quốc năm {year}, gồm: {listed}.\n\nTrân trọng.",
        f"Dạ kính gửi cô,\n{school.unit()} gửi cô hồ sơ ANTQ ({listed}). Cô kiểm tra giúp trường ạ.\n"
        "Em cảm ơn cô.",
        f"Kính gửi Phòng GD&ĐT,\nĐơn vị {school.name} nộp hồ sơ điển hình ANTQ năm học {year - 1}-{year}.\n"
        "Trân trọng kính chào.",
    ])


def signature(school: School, rng: random.Random) -> str:
    return rng.choice([f"Văn thư {school.unit()}\nĐT: 028 37{rng.randint(10, 99)} {rng.randint(1000, 9999)}",
                       f"{school.unit()}\n{school.emails[0] if school.emails else ''}", ""])


def other_subject(school: School, topic: str, year: int, rng: random.Random) -> str:
    words = {"ma_tuy": "công tác phòng chống ma túy", "pccc": "công tác phòng cháy chữa cháy",
             "atgt": "công tác an toàn giao thông", "ne_nep": "kết quả kiểm tra nề nếp"}[topic]
    return rng.choice([f"Báo cáo {words} năm học {year - 1}-{year} - {school.name}",
                       f"{school.name} gửi báo cáo {words}", f"V/v {words}"])
