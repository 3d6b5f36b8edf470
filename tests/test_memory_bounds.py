"""The main process and the workers stay bounded whatever the mail holds
(issue 13.5/13.6): header reading in this process, image frames in a worker."""
from __future__ import annotations

import io
import tracemalloc
from datetime import datetime, timezone

import pytest

from bot.extract import ExtractLimits, Extractor, ocr_unavailable_reason
from bot.model import Attachment, RawMessage
from bot.store import Store
from bot.store.headers import message_id_of, sender_of

NOW = datetime(2023, 10, 5, 8, tzinfo=timezone.utc)
OCR_MISSING = ocr_unavailable_reason()


def many_header_lines(lines: int, *, first: bytes = b"", last: bytes = b"") -> bytes:
    """A mail of ``lines`` tiny header lines (the attack: 11 million in 55 MB took 2 GB)."""
    return first + b"X:a\n" * lines + last + b"\nbody\n"


@pytest.mark.parametrize("where, message_id", [
    ("top", "<top@hcm-edu.example>"),  # found: it is within the bounds
    ("bottom", ""),  # beyond the bounds: not read (the store names it by its digest)
])
def test_reading_the_headers_of_a_mail_of_millions_of_header_lines_stays_small(where, message_id):
    header = b"Message-ID: <" + where.encode() + b"@hcm-edu.example>\nFrom: A <a@hcm-edu.example>\nSubject: x\n"
    data = many_header_lines(2_000_000, **({"first": header} if where == "top" else {"last": header}))
    tracemalloc.start()
    try:
        found = message_id_of(data)
        sender = sender_of(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == message_id
    assert sender == (("a@hcm-edu.example", "x") if where == "top" else ("", ""))
    assert peak < 4 * 1024 * 1024, f"{peak} bytes to read the headers of an {len(data)} byte mail"


def test_a_mail_of_millions_of_header_lines_is_recorded_by_its_digest(tmp_path):
    data = many_header_lines(2_000_000, last=b"Message-ID: <late@x>\n")
    with Store.open(tmp_path / "state") as store:
        assert store.record_fetched([RawMessage("k", data, NOW)], NOW) == 1
        (p,) = store.pending(10, 3)
    assert p.message_id.endswith("@no-message-id>")  # nothing lost: the raw bytes are archived


def _tiff(*sizes: tuple[int, int]) -> bytes:
    from PIL import Image

    frames = [Image.new("1", size, 1) for size in sizes]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], compression="packbits")
    return buf.getvalue()


@pytest.mark.skipif(OCR_MISSING is not None, reason=f"OCR: {OCR_MISSING}")
def test_a_tiff_whose_later_frames_are_huge_is_checked_frame_by_frame():
    # 100x100 first frame, then 12000x12000 ones: the first frame alone passed the pixel check
    data = _tiff((100, 100), (12000, 12000), (12000, 12000))
    with Extractor(workers=1, timeout=60, ocr=True) as pool:
        result = pool.extract(Attachment("scan.tif", "image/tiff", data))
    assert result.pages == 3
    assert "trang 2: ảnh quá lớn, không đọc được" in result.notes
    assert "trang 3: ảnh quá lớn, không đọc được" in result.notes


@pytest.mark.skipif(OCR_MISSING is not None, reason=f"OCR: {OCR_MISSING}")
def test_the_frames_of_one_image_share_a_pixel_budget():
    limits = ExtractLimits(max_image_pixels=1_000_000)  # budget: 2.5 frames of the limit
    data = _tiff(*[(900, 900)] * 4)  # each frame under the limit, four of them over the budget
    with Extractor(limits, workers=1, timeout=60, ocr=True) as pool:
        result = pool.extract(Attachment("scan.tif", "image/tiff", data))
    assert "ảnh quá lớn, không đọc được hết: chỉ đọc 3 trang đầu" in result.notes
