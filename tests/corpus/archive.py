"""ZIP archives as Windows tools write them: names in raw bytes, no UTF-8 flag.

Python's zipfile always sets the UTF-8 flag (bit 11) for non-ASCII names;
many real archivers do not, so readers decode the UTF-8 bytes as cp437 and
show "Tß╗¥ tr├¼nh.pdf". ``LegacyZipInfo`` writes the bytes without the flag.
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime

UTF8_FLAG = 0x800


class LegacyZipInfo(zipfile.ZipInfo):
    """A member whose name is stored as given bytes, without the UTF-8 flag."""

    def __init__(self, raw_name: bytes, date_time: tuple) -> None:
        super().__init__(raw_name.decode("cp437"), date_time)
        self.raw_name = raw_name

    def _encodeFilenameFlags(self):  # noqa: N802 (zipfile's private hook)
        return self.raw_name, self.flag_bits & ~UTF8_FLAG


def legacy_zip(members: list[tuple[str, bytes]], when: datetime, folder: str = "") -> bytes:
    """A deflated ZIP of ``(name, data)``; names written as UTF-8 bytes
    without the flag. ``folder`` puts them in a directory (with its entry),
    as "Send to > Compressed folder" on a folder does."""
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        if folder:
            info = LegacyZipInfo((folder + "/").encode("utf-8"), stamp)
            info.external_attr = 0o40775 << 16 | 0x10
            zf.writestr(info, b"")
        for name, data in members:
            full = f"{folder}/{name}" if folder else name
            info = LegacyZipInfo(full.encode("utf-8"), stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()
