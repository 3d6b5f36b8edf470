"""National formats and mail conventions shared by the classifier's modules (not campaign data)."""
from __future__ import annotations


# --------------------------------------------------------------------------
# Constants (national formats and mail conventions, not campaign data)
# --------------------------------------------------------------------------

# Administrative document types of Nghị định 30/2020/NĐ-CP, Phụ lục III:
# (id, name, title, type abbreviation). Those the campaign lists as its own
# documents are taken from the rules; the others are recognised so that a
# "QUYẾT ĐỊNH" is ignored rather than sent to review as "unknown type".
ADMIN_TYPES = (
    ("nghi_quyet", "Nghị quyết", "NGHỊ QUYẾT", "NQ"),
    ("quyet_dinh", "Quyết định", "QUYẾT ĐỊNH", "QĐ"),
    ("chi_thi", "Chỉ thị", "CHỈ THỊ", "CT"),
    ("quy_che", "Quy chế", "QUY CHẾ", "QC"),
    ("quy_dinh", "Quy định", "QUY ĐỊNH", "QyĐ"),
    ("thong_bao", "Thông báo", "THÔNG BÁO", "TB"),
    ("huong_dan", "Hướng dẫn", "HƯỚNG DẪN", "HD"),
    ("chuong_trinh", "Chương trình", "CHƯƠNG TRÌNH", "CTr"),
    ("ke_hoach", "Kế hoạch", "KẾ HOẠCH", "KH"),
    ("phuong_an", "Phương án", "PHƯƠNG ÁN", "PA"),
    ("de_an", "Đề án", "ĐỀ ÁN", "ĐA"),
    ("bao_cao", "Báo cáo", "BÁO CÁO", "BC"),
    ("bien_ban", "Biên bản", "BIÊN BẢN", "BB"),
    ("to_trinh", "Tờ trình", "TỜ TRÌNH", "TTr"),
    ("hop_dong", "Hợp đồng", "HỢP ĐỒNG", "HĐ"),
    ("giay_moi", "Giấy mời", "GIẤY MỜI", "GM"),
    ("giay_gioi_thieu", "Giấy giới thiệu", "GIẤY GIỚI THIỆU", "GGT"),
)

# Phrases of a mail body that announce documents (for mail without any).
SUBMISSION_PHRASES = ("gửi hồ sơ", "đính kèm", "gửi kèm", "kèm theo", "nộp hồ sơ",
                      "gửi tờ trình", "gửi báo cáo", "gửi biên bản", "hồ sơ đề nghị", "attached")

# Words of a Công văn subject that say it only transmits other documents.
TRANSMIT_WORDS = ("gui", "nop", "chuyen", "kem theo", "dinh kem")

# Words around a school name that make it a mention in passing, not a signature.
PASSING_WORDS = ("kinh nghiem", "phoi hop", "hoc tap", "cung voi", "giup do", "ho tro",
                 "tham quan", "so voi", "nhu truong", "giao luu")

# Weights of the sources of school evidence, and their tier (3 strong, 2 medium, 1 weak).
# "header_cut" (only the start of the issuer's name read) weighs nothing: it can
# only contradict, as strongly as the header it is.
SOURCE_WEIGHT = {"address": 0.6, "header": 0.6, "header_partial": 0.45, "forwarder": 0.4,
                 "subject": 0.3, "signature": 0.3, "sender_name": 0.25, "filename": 0.15, "header_cut": 0.0}
SOURCE_TIER = {"address": 3, "header": 3, "header_partial": 2, "forwarder": 2,
               "subject": 2, "signature": 2, "sender_name": 2, "filename": 1, "header_cut": 3}

# Confidence is capped here when something needs a person, whatever the threshold.
CONCERN_CAP = 0.5
# Only this much of a part's text is read for topic and year (it is already bounded
# by extraction; this keeps one part well under a few milliseconds).
MAX_TEXT = 20_000
# Images smaller than this without any document type are logos and signatures.
TINY_IMAGE_BYTES = 40_000
