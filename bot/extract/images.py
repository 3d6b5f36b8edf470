"""Images (photos and scans of documents): read by OCR, frame by frame."""
from __future__ import annotations

import io
import subprocess

from ..model import Extraction
from .common import HUGE_IMAGE, SCAN_UNREAD, OCR_NOTE, ExtractLimits
from .ocr import ocr_png, want_ocr
from .text import Block, extraction_from_blocks, clean_lines


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

# Pixels one attachment may decode in all, as a multiple of the one-frame limit
# (``ExtractLimits.max_image_pixels``): a multi-page TIFF or GIF is bounded as
# a whole, not only frame by frame (a 100x100 first frame hid 12000x12000 ones).
TOTAL_PIXELS_FACTOR = 2.5


def extract_image(data: bytes, limits: ExtractLimits, ocr: bool | None) -> Extraction:
    """A photo or scan (each frame of a TIFF a page), read by OCR when ``ocr`` allows."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        if image.width * image.height > limits.max_image_pixels:
            return Extraction("image", pages=frames, error=HUGE_IMAGE)
    except Image.DecompressionBombError:  # Pillow refuses it before we can measure it
        return Extraction("image", error=HUGE_IMAGE)
    except (UnidentifiedImageError, OSError, ValueError):
        return Extraction("image", error="ảnh bị hỏng hoặc định dạng ảnh chưa đọc được")
    use, reason = want_ocr(ocr)
    if not use:
        return Extraction("image", pages=frames, error=f"{SCAN_UNREAD} {reason}")
    blocks, notes = [], [OCR_NOTE]
    budget = int(limits.max_image_pixels * TOTAL_PIXELS_FACTOR)
    for index in range(min(frames, limits.ocr_max_pages)):
        try:
            image.seek(index)
            pixels = image.width * image.height  # of this frame: the first one says nothing of the others
            if pixels > limits.max_image_pixels:  # not decoded: skipped, said
                notes.append(f"trang {index + 1}: {HUGE_IMAGE}")
                continue
            if pixels > budget:
                notes.append(f"{HUGE_IMAGE} hết: chỉ đọc {index} trang đầu")
                break
            budget -= pixels
            text = ocr_png(_page_png(image), image_dpi(image), limits)
        except Image.DecompressionBombError:
            notes.append(f"trang {index + 1}: {HUGE_IMAGE}")
            continue
        except (OSError, subprocess.SubprocessError, RuntimeError, ValueError, EOFError) as exc:
            notes.append(f"OCR lỗi ở trang {index + 1}: {str(exc)[:120]}")
            continue
        lines, _ = clean_lines(text, legacy=False)  # OCR gives Unicode, never TCVN3/VNI
        blocks.append(Block(tuple(lines), page=index + 1))
    if not blocks and any(HUGE_IMAGE in n for n in notes):
        return Extraction("image", pages=frames, error=HUGE_IMAGE, notes=tuple(notes[1:]))
    if frames > limits.ocr_max_pages:
        notes.append(f"OCR chỉ đọc {limits.ocr_max_pages} trang đầu")
    return extraction_from_blocks("image", blocks, limits, paged=True, pages=frames, ocr=True, notes=notes,
                                  empty_error="OCR không đọc được chữ nào trong ảnh")


def _page_png(image) -> bytes:
    """One frame as grayscale PNG, EXIF rotation applied (phone photos)."""
    from PIL import ImageOps

    frame = ImageOps.exif_transpose(image).convert("L")
    buf = io.BytesIO()
    frame.save(buf, format="PNG")
    return buf.getvalue()


def image_dpi(image) -> int:
    """The resolution the image states, when plausible (70 to 1200 dpi); else 200."""
    dpi = image.info.get("dpi", (0, 0))[0] or 0
    return int(dpi) if 70 <= dpi <= 1200 else 200
