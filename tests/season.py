"""A generated season for the digest tests: a district of 60 schools on the
morning after the schools' deadline, recorded through the real store API.

What a coordinator finds that morning in a busy year: over a hundred files
waiting for review (scans and phone photos the OCR could not read, files of
other campaigns, mail without the attachment, senders outside the roster,
long Vietnamese file names, a name that is one long word), late dossiers,
schools still missing documents, forwarders, schools whose every address
bounced, quarantined mail. Deterministic for a seed.
"""
from __future__ import annotations

import random
from pathlib import Path

from bot import notify
from bot.store import Store

from .bounce_mail import bounce
from .outgoing import ROOT, at, quarantine, record

MORNING_AFTER = at(11, 7)  # the digest of 11/10/2023: the deadline was 10/10 23:59
ALL = ("to_trinh", "bao_cao", "bien_ban")
_NAMES = ("Nguyễn Văn Trỗi", "Lý Tự Trọng", "Trần Quang Khải", "Võ Thị Sáu", "Phan Chu Trinh", "Lê Quý Đôn",
          "Hồ Văn Huê", "Nguyễn Khuyến", "Đinh Bộ Lĩnh", "Trưng Nhị", "Bùi Thị Xuân", "Huỳnh Thúc Kháng",
          "Nguyễn Bỉnh Khiêm", "Chu Văn An", "Lương Định Của", "Tô Vĩnh Diện", "Nguyễn Thượng Hiền",
          "Phạm Ngũ Lão", "Hoàng Hoa Thám", "Trần Văn Ơn", "Kim Đồng 2", "Hạnh Thông Tây", "Thạnh Xuân",
          "Tân Chánh Hiệp", "An Phú Đông 2", "Đông Hưng Thuận", "Tân Thới Nhất", "Trung Mỹ Tây",
          "Hiệp Thành", "Thới An", "Tân Hưng Thuận", "Nguyễn Văn Quá", "Lê Văn Việt")
_LEVELS = (("TH", "Tiểu học", "th"), ("THCS", "Trung học cơ sở", "thcs"), ("MN", "Mầm non", "mn"))


def _ascii(name: str) -> str:
    from bot.vietnamese import fold
    return "".join(c for c in fold(name).lower() if c.isalnum())


def season_rules(tmp_path: Path) -> Path:
    """rules/ with the bundled roster plus 33 schools: 60 in all."""
    out = tmp_path / "rules"
    out.mkdir(exist_ok=True)
    (out / "campaign.toml").write_text((ROOT / "rules" / "campaign.toml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    lines = (ROOT / "rules" / "schools.csv").read_text(encoding="utf-8").splitlines()
    for i, name in enumerate(_NAMES):
        level, long, prefix = _LEVELS[i % 3]
        code = f"{prefix}-{_ascii(name)}"
        lines.append(f"{code},{level} {name},{level},{prefix}{_ascii(name)}.q12@hcm-edu.example,{long} {name}")
    (out / "schools.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _review_file(rng: random.Random, k: int, code: str, school: str) -> tuple:
    """(filename, school, doc_types, "review", *reasons): the kinds of review a season brings."""
    sender_ok = f"địa chỉ gửi có trong danh sách trường ({school})"
    kind = k % 12
    if kind == 0:
        return (f"IMG_202310{k % 9 + 1:02d}_{100000 + 7 * k}.jpg", code, (), "review",
                "OCR không đọc được chữ nào trong ảnh", sender_ok)
    if kind == 1:
        return (f"CamScanner {k % 28 + 1:02d}-10-2023 {k % 12 + 8:02d}.{k % 60:02d}.pdf", code, ("bao_cao",), "review",
                "không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu)",
                "đoán loại văn bản từ tên tệp", "chữ đọc bằng OCR (có thể nhận dạng sai)", sender_ok)
    if kind == 2:
        return (f"Báo cáo công tác y tế trường học năm học 2023-2024 - {school}.pdf", code, ("bao_cao",), "review",
                "chưa chắc thuộc đợt này: có từ ngữ về y tế trường học, từ ngữ của đợt này chỉ có 'an ninh'",
                sender_ok)
    if kind == 3:
        return (f"BAO CAO PCCC {_ascii(school).upper()[:8]} 2023.pdf", code, ("bao_cao",), "review",
                "chưa chắc thuộc đợt này: có từ ngữ về phòng cháy chữa cháy, từ ngữ của đợt này chỉ có "
                "'an ninh trật tự'", sender_ok)
    if kind == 4:
        return (f"Tờ trình đề nghị công nhận cơ sở giáo dục điển hình năm 2023 - {school} - bản có chữ ký "
                "và đóng dấu đỏ của Hiệu trưởng.pdf", code, ("to_trinh",), "review",
                "độ tin cậy 0,55 dưới ngưỡng 0,70", sender_ok)
    if kind == 5:
        return ("", code, (), "review", "thư nói có gửi văn bản nhưng không có tệp đính kèm", sender_ok)
    if kind == 6:
        return ("hoso.pdf", None, (), "review",
                "không nhận ra trường (địa chỉ gửi không có trong danh sách trường, đầu văn bản không ghi trường "
                "nào trong danh sách)", "không nhận ra loại văn bản (đầu văn bản không có tiêu đề hay số ký hiệu)",
                "không thấy từ ngữ nào của đợt này")
    if kind == 7:
        return (f"Bien ban hop xet {k}.docx", code, ("bien_ban",), "review",
                "tiêu đề là Biên bản họp xét, đề nghị nhưng số ký hiệu là Tờ trình đề nghị công nhận", sender_ok)
    if kind == 8:
        return ("HoSoDeNghiCongNhanDonViDienHinhPhongTraoToanDanBaoVeANTQ_" + _ascii(school) + "_2023_final_v3.pdf",
                code, ("bao_cao",), "review", "văn bản ghi ngày 12/11/2024, sau ngày nhận (05/10/2023)", sender_ok)
    if kind == 9:
        return (f"scan{k:04d}.pdf", code, ("bien_ban",), "review", "tệp scan nhưng OCR đang tắt",
                "đoán loại văn bản từ tên tệp 'scan.pdf'", sender_ok)
    if kind == 10:
        return ("ho-so-antq.pdf", code, (), "review", "PDF được bảo vệ bằng mật khẩu", sender_ok)
    return (f"to-trinh-{k}.pdf", code, ("to_trinh",), "review",
            f"mâu thuẫn: đầu văn bản ghi THCS Nguyễn Trãi, không phải {school}", sender_ok)


def record_season(store: Store, ctx, outgoing, seed: int = 17, review_items: int = 110) -> dict:
    """Fill ``store`` with the season (receipts go through ``outgoing``, a sender, so that
    delivery reports can name the bot's own mail); returns what was recorded."""
    rng = random.Random(seed)
    schools = list(ctx.rules.schools)
    rng.shuffle(schools)
    late = missing = 0
    # most schools send their dossier on time, in one mail or several
    for i, s in enumerate(schools):
        sender = s.emails[0]
        day = 2 + i % 8
        if i % 5 == 4:      # late: arrived in the night after the deadline
            record(store, at(day, 9), sender=sender, files=[("to-trinh.pdf", s.code, ("to_trinh",), "counted")])
            record(store, at(11, 0, 10 + i % 40), sender=sender,
                   files=[("bao-cao.pdf", s.code, ("bao_cao",), "counted"),
                          ("bien-ban.pdf", s.code, ("bien_ban",), "counted")])
            late += 2
        elif i % 5 == 3:    # still missing something
            record(store, at(day, 10), sender=sender, files=[("to-trinh.pdf", s.code, ("to_trinh",), "counted")])
            missing += 1
        elif i % 11 == 7:   # nothing at all
            missing += 1
        else:
            record(store, at(day, 8, i % 60), sender=sender,
                   files=[(f"Hồ sơ ANTQ {s.name}.pdf", s.code, ALL, "counted")])
    # the review queue
    for k in range(review_items):
        s = schools[k % len(schools)]
        f = _review_file(rng, k, s.code, s.name)
        sender = s.emails[0] if f[1] else f"nguoigui.{k}.khongro@gmail.com"
        record(store, at(2 + k % 9, 13, k % 60) if k % 9 != 8 else at(11, 1, k % 60), sender=sender, files=[f])
    # forwarders and strangers
    for k in range(25):
        s = schools[k]
        record(store, at(3 + k % 7, 15), sender=f"giaovien.{_ascii(s.name)}.{k}@gmail.com",
               subject=f"Fwd: Hồ sơ đề nghị công nhận điển hình ANTQ - {s.name}",
               files=[("bao-cao.pdf", s.code, ("bao_cao",), "counted")] if k % 2 else ())
    # the receipts go out; then two schools' every address bounces, and some addresses bounce but work again
    notify.send_receipts(ctx, store, outgoing, at(10, 12))
    for s in schools[:2]:
        for address in s.emails:
            bounce(store, at(10, 20), address)
    for s in schools[10:14]:
        bounce(store, at(10, 20), s.emails[0])
    for s in schools[10:14]:
        record(store, at(10, 21), sender=s.emails[0], files=())
    for k in range(2):
        quarantine(store, at(9, 9 + k), sender=schools[20 + k].emails[0],
                   subject="Hồ sơ ANTQ (tệp 48 MB)", error="message too large: 48 MB > 30 MB")
    return {"late": late, "missing": missing, "review": review_items}


__all__ = ["MORNING_AFTER", "season_rules", "record_season"]
