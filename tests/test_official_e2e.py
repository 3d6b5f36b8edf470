"""Official copies end to end (issue 16): a school mails a digitally signed
PDF, a Word draft and a stamped scan; then, after the deadline, the signed
minutes, a PDF changed after signing and a scan with a faint seal. Through
``poll`` -> ``status --json`` -> ``assign --official`` -> ``export`` (JSON
and CSV), as the coordinator runs them.

Real files: a test PKI and pyHanko signatures, python-docx, page images with
a drawn seal read by tesseract (``tests/officialfactory.py``)."""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli import main

from . import docfactory as df
from . import mailfactory as mf
from . import officialfactory as of
from .configs import write_config

SCHOOL = "thcs-nguyen-hien"
SENDER = "thcsnguyenhien.q12@hcm-edu.example"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PKI_AT = datetime(2023, 9, 1, tzinfo=timezone.utc)

HEAD = ("UBND QUẬN 12", "TRƯỜNG THCS NGUYỄN HIỀN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc")
SUBJECT = "xây dựng đơn vị điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023"
TO_TRINH = (*HEAD, "Số: 12/TTr-THCSNH", "Quận 12, ngày 05 tháng 10 năm 2023", "TỜ TRÌNH",
            f"Về việc đề nghị công nhận đơn vị điển hình về phong trào toàn dân bảo vệ an ninh Tổ quốc năm 2023",
            "Kính gửi: Phòng Giáo dục và Đào tạo Quận 12", "Trường đề nghị Phòng xét, công nhận.",
            "HIỆU TRƯỞNG", "Nguyễn Văn An")
BIEN_BAN = (*HEAD, "Số: 03/BB-THCSNH", "Quận 12, ngày 04 tháng 10 năm 2023", "BIÊN BẢN",
            f"Họp xét, đề nghị công nhận đơn vị {SUBJECT}",
            "Thời gian: 14 giờ 00 ngày 04 tháng 10 năm 2023", "Địa điểm: Phòng họp Trường THCS Nguyễn Hiền",
            "Thành phần: Hội đồng thi đua của trường, 25 thành viên", "Chủ trì: Nguyễn Văn An, Hiệu trưởng",
            "Thư ký: Trần Thị Bình", "Kết quả biểu quyết: 25/25 thành viên tán thành (100%)",
            "Nội dung đề nghị: đề nghị Phòng Giáo dục và Đào tạo xét, công nhận.",
            "CHỦ TRÌ", "Nguyễn Văn An")
BAO_CAO = (*HEAD[:2], "Số: 15/BC-THCSNH", "Quận 12, ngày 06 tháng 10 năm 2023", "BÁO CÁO",
           "Kết quả xây dựng đơn vị điển hình về phong trào toàn dân", "bảo vệ an ninh Tổ quốc năm 2023",
           *["Trường triển khai phong trào bảo vệ an ninh Tổ quốc trong năm 2023."] * 6)
KE_HOACH = (*HEAD[:2], "Số: 07/KH-THCSNH", "Quận 12, ngày 03 tháng 10 năm 2023", "KẾ HOẠCH",
            "Triển khai xây dựng cơ sở giáo dục điển hình về phong trào toàn dân",
            "bảo vệ an ninh Tổ quốc năm 2023", *["Nội dung kế hoạch triển khai phong trào năm 2023."] * 6)


def scan(lines, *, seal_strength: float = 1.0) -> bytes:
    """A photographed last page: text, the head's title and name, a blue signature and the red seal."""
    from PIL import Image, ImageDraw, ImageFont

    size = (1240, 1754)
    img = Image.new("RGB", size, (250, 250, 247))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(SANS, 30)
    y = 100
    for line in lines:
        draw.text((100, y), line, font=font, fill=(20, 20, 20))
        y += 51
    bx, by = 760, max(y + 60, 1300)
    draw.text((bx, by), "HIỆU TRƯỞNG", font=font, fill=(20, 20, 20))
    draw.line([(bx + 20 + k * 12, by + 90 + 25 * math.sin(k * 1.3)) for k in range(18)], fill=(30, 50, 170), width=3)
    draw.text((bx, by + 200), "Nguyễn Văn An", font=font, fill=(20, 20, 20))
    of._draw_seal(img, (bx - 10, by + 110), 0.085 * size[0], seal_strength)
    return of.jpeg(img, 85)


def mail(day: str, files: list[mf.File], n: int) -> bytes:
    return mf.build("gmail", sender=SENDER, sender_name="Trường THCS Nguyễn Hiền",
                    subject="Hồ sơ đề nghị công nhận điển hình ANTQ", date=day, files=files,
                    message_id=f"<official-{n}@hcm-edu.example>")


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("official")
    pki = of.make_pki(PKI_AT)
    certs = tmp / "certs"
    certs.mkdir()
    (certs / "test-root.pem").write_bytes(pki.root.pem)
    inbox = tmp / "inbox"
    inbox.mkdir()
    config = write_config(tmp, f'source = "folder"\npath = "{inbox}"')
    config.write_text(config.read_text(encoding="utf-8") + f'\n[official]\ntrust_roots = "{certs}"\n',
                      encoding="utf-8")
    signed_at = datetime(2023, 10, 5, 3, tzinfo=timezone.utc)
    to_trinh = of.sign(of.plain_pdf(TO_TRINH), pki.signer, (pki.root,), signed_at=signed_at)
    draft = df.official_docx(df.OfficialDoc(
        title="BIÊN BẢN", number="Số:      /BB-THCSNH", issuer="TRƯỜNG THCS NGUYỄN HIỀN",
        subject=f"Họp xét, đề nghị công nhận đơn vị {SUBJECT}",
        place_date="Quận 12, ngày      tháng 10 năm 2023", body=BIEN_BAN[8:15]))
    (inbox / "1.eml").write_bytes(mail("Thu, 05 Oct 2023 09:30:00 +0700", [
        mf.File("to-trinh.pdf", to_trinh), mf.File("bien-ban.docx", draft), mf.File("bao-cao.jpg", scan(BAO_CAO))], 1))
    return {"tmp": tmp, "config": str(config), "inbox": inbox, "pki": pki, "to_trinh": to_trinh}


def cli(config: str, now: str, *args: str, capsys=None):
    if capsys is not None:
        capsys.readouterr()
    code = main(["--config", config, "--now", now, *args])
    return code, (capsys.readouterr().out if capsys is not None else "")


def documents(config, now, capsys) -> tuple[dict, dict]:
    code, out = cli(config, now, "status", "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    return next(s for s in data["schools"] if s["code"] == SCHOOL), data


@pytest.mark.slow
def test_signed_stamped_and_draft_copies_through_poll_status_assign_and_export(season, capsys):
    config, inbox, pki = season["config"], season["inbox"], season["pki"]

    code, out = cli(config, "2023-10-06T08:00", "check-config", capsys=capsys)
    assert code == 0
    assert "official copies: trust roots 1 certificate(s)" in out
    assert "  bien_ban: requires signed_or_stamped, number, date_in_cycle, minutes_parts (checked as minutes)" in out

    assert cli(config, "2023-10-06T08:00", "poll")[0] == 0
    school, data = documents(config, "2023-10-06T08:00", capsys)
    docs = school["documents"]
    # the digitally signed PDF: official, signer and organisation from the certificate, chained to the root
    assert docs["to_trinh"]["official"] is True
    sig = docs["to_trinh"]["evidence"]["digital_signature"]
    assert (sig["signer"], sig["organisation"], sig["intact"], sig["covers_whole_file"],
            sig["modified_after_signing"], sig["trusted"]) == (
        "Nguyễn Văn A", "Trường THCS Nguyễn Hiền", True, True, False, True)
    assert docs["to_trinh"]["evidence"]["number"] == "12/TTr-THCSNH"
    assert docs["to_trinh"]["evidence"]["date"] == "2023-10-05"
    # the stamped scan: seal and the head's signature seen
    assert docs["bao_cao"]["official"] is True, docs["bao_cao"]["evidence"]
    assert docs["bao_cao"]["evidence"]["seal"] is True
    assert any("có dấu đỏ và chữ ký của HIỆU TRƯỞNG" in s for s in docs["bao_cao"]["evidence"]["seen"])
    # the Word draft: received (on time), not the official paper, and the school is told why
    assert docs["bien_ban"]["status"] == "on_time" and docs["bien_ban"]["official"] is False
    assert any(p.startswith("bản Word chưa ký") for p in docs["bien_ban"]["evidence"]["problems"])
    assert school["complete"] is False
    assert data["review"] == []

    # after the deadline: the signed minutes, a Tờ trình changed after signing, a plan with a faint seal
    minutes = of.sign(of.plain_pdf(BIEN_BAN), pki.signer, (pki.root,),
                      signed_at=datetime(2023, 10, 12, 2, tzinfo=timezone.utc))
    (inbox / "2.eml").write_bytes(mail("Thu, 12 Oct 2023 09:30:00 +0700", [
        mf.File("bien-ban-ky-so.pdf", minutes), mf.File("to-trinh-sua.pdf", of.add_page_after_signing(season["to_trinh"])),
        mf.File("ke-hoach.jpg", scan(KE_HOACH, seal_strength=0.3))], 2))
    assert cli(config, "2023-10-12T10:00", "poll")[0] == 0
    school, data = documents(config, "2023-10-12T10:00", capsys)
    docs = school["documents"]
    # the signed copy replaces the draft for completeness; timeliness still counts from the draft
    assert docs["bien_ban"]["official"] is True and docs["bien_ban"]["versions"] == 2
    assert docs["bien_ban"]["status"] == "on_time" and docs["bien_ban"]["received_at"].startswith("2023-10-05")
    # a copy changed after signing never undoes the official one
    assert docs["to_trinh"]["official"] is True and docs["to_trinh"]["versions"] == 2
    assert school["complete"] is True
    # the faint seal: counted, and a question for the coordinator with the page's reason
    assert docs["ke_hoach"]["status"] == "late" and docs["ke_hoach"]["official"] is None
    (question,) = data["review"]
    assert question["official_doubt"] and "quá mờ" in question["reason"], question

    code, out = cli(config, "2023-10-12T10:00", "assign", question["ref"], "--official",
                    "--why", "đã xem bản gốc", "--who", "mai", capsys=capsys)
    assert code == 0 and "settled: the official paper" in out
    school, data = documents(config, "2023-10-12T10:05", capsys)
    assert school["documents"]["ke_hoach"]["official"] is True and data["review"] == []

    # export: every row has the contract's evidence object (null when the part was not judged)
    code, out = cli(config, "2023-10-12T10:05", "export", capsys=capsys)
    rows = {r["filename"]: r for r in json.loads(out)}
    assert set(rows["to-trinh.pdf"]["evidence"]) >= {"official", "digital_signature", "seal", "signature_block",
                                                     "number", "date", "problems"}
    changed = rows["to-trinh-sua.pdf"]["evidence"]
    assert changed["official"] is False and changed["digital_signature"]["modified_after_signing"] is True
    assert changed["digital_signature"]["covers_whole_file"] is False
    assert rows["bien-ban.docx"]["evidence"]["official"] is False
    assert rows["ke-hoach.jpg"]["evidence"]["official"] is True  # as the coordinator settled it
    code, out = cli(config, "2023-10-12T10:05", "export", "--format", "csv", capsys=capsys)
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0])[-6:] == ["official", "signed_by", "seal", "number", "date", "problems"]
    signed = next(r for r in table if r["filename"] == "to-trinh.pdf")
    assert (signed["official"], signed["signed_by"], signed["number"], signed["date"]) == (
        "True", "Nguyễn Văn A, Trường THCS Nguyễn Hiền", "12/TTr-THCSNH", "2023-10-05")
    draft = next(r for r in table if r["filename"] == "bien-ban.docx")
    assert draft["official"] == "False" and "bản Word chưa ký" in draft["problems"]
