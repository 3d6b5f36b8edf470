"""ZIP archives (with bomb limits) and TNEF (winmail.dat), both read with every count bounded."""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from ..model import Skipped
from .limits import MB, ParseLimits, log
from .mime import human_size
from .text import clean_filename, codec_for, decode_8bit, decode_bytes


class ZipRejected(Exception):
    """The archive breaks a limit: none of its members is kept."""


@dataclass
class _ZipResult:
    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    used: int = 0  # bytes taken from the message's ZIP budget


def _zip_declared_entries(data: bytes) -> int | None:
    """Entry count from the End Of Central Directory, read before zipfile
    builds an object per entry (a million tiny entries cost memory)."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    count = struct.unpack_from("<H", data, pos + 10)[0]
    return None if count == 0xFFFF else count  # 0xFFFF: ZIP64, zipfile reads the real count


def _unicode_path_extra(info: zipfile.ZipInfo) -> str | None:
    """Info-ZIP Unicode Path extra field (0x7075): the UTF-8 name some tools add."""
    extra, pos = info.extra, 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author saw it, without folders.

    Without the UTF-8 flag zipfile decodes cp437; Vietnamese names were
    really UTF-8 (macOS, Linux, 7-Zip) or cp1258 (Windows), so re-decode.
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        name = _unicode_path_extra(info) or name
        if name == info.filename:
            raw = info.filename.encode("cp437", "replace")
            for encoding in ("utf-8", "cp1258"):
                try:
                    name = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    pass
    base = [piece for piece in re.split(r"[\\/]", name) if piece not in ("", ".", "..")]
    return clean_filename(base[-1] if base else name)


def _is_os_metadata(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or base.startswith("._") or base in (".DS_Store", "Thumbs.db")


def read_zip(data: bytes, limits: ParseLimits, budget: int) -> _ZipResult:
    """Members of a ZIP, within the limits; raises ZipRejected for a bomb.

    Sizes are checked as declared, then again while inflating, so a header
    that lies about them cannot make us hold more than the limits.
    """
    declared = _zip_declared_entries(data)
    if declared is not None and declared > 4 * limits.max_zip_members + 16:
        raise ZipRejected(f"chứa {declared} tệp (giới hạn {limits.max_zip_members})")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            struct.error, NotImplementedError, UnicodeError) as exc:
        raise ZipRejected(f"không phải tệp ZIP đọc được ({exc})") from None
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_os_metadata(i.filename)]
    if len(infos) < len(archive.infolist()):
        log.debug("ZIP: %d folder or OS metadata entries (__MACOSX, .DS_Store...) not read",
                  len(archive.infolist()) - len(infos))
    _check_declared_sizes(infos, limits, budget)
    result = _ZipResult()
    for info in infos:
        _read_member(archive, info, limits, budget, result)
    return result


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ParseLimits, budget: int) -> None:
    if len(infos) > limits.max_zip_members:
        raise ZipRejected(f"chứa {len(infos)} tệp (giới hạn {limits.max_zip_members})")
    total = sum(i.file_size for i in infos)
    if total > budget:
        limit = human_size(limits.max_zip_total_bytes)
        raise ZipRejected(f"giải nén ra {human_size(total)} " + (
            f"(giới hạn {limit})" if budget == limits.max_zip_total_bytes else
            f"(chỉ còn {human_size(budget)} trong {limit} cho phép cho mọi tệp ZIP của một thư)"))
    for info in infos:
        if _ratio_exceeded(info.file_size, info.compress_size, limits):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ZipRejected(f"'{_zip_member_name(info)}' giải nén gấp {ratio} lần "
                              f"(giới hạn {limits.max_zip_ratio} lần)")


def _ratio_exceeded(size: int, compressed: int, limits: ParseLimits) -> bool:
    return size > limits.zip_ratio_floor and size > limits.max_zip_ratio * max(compressed, 1)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ParseLimits,
                 budget: int, result: _ZipResult) -> None:
    name = _zip_member_name(info)
    if info.flag_bits & 0x1:
        result.skipped.append(Skipped(name, "tệp trong ZIP có mật khẩu (bị mã hóa)"))
        return
    if info.file_size > limits.max_attachment_bytes:
        result.skipped.append(Skipped(name, f"quá lớn: {human_size(info.file_size)} "
                                      f"(giới hạn {human_size(limits.max_attachment_bytes)})"))
        return
    out = bytearray()
    try:
        with archive.open(info) as member:
            while chunk := member.read(MB):
                out += chunk
                _check_inflated(name, len(out), info, limits, budget - result.used)
    except ZipRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError,
            ValueError, RuntimeError, struct.error) as exc:
        result.skipped.append(Skipped(name, f"không đọc được tệp trong ZIP ({exc or type(exc).__name__})"))
        return
    result.used += len(out)
    result.files.append((name, bytes(out)))


def _check_inflated(name: str, size: int, info: zipfile.ZipInfo, limits: ParseLimits,
                    remaining: int) -> None:
    if size > info.file_size:
        raise ZipRejected(f"'{name}' chứa nhiều dữ liệu hơn khai báo")
    if size > remaining:
        raise ZipRejected(f"giải nén vượt quá {human_size(limits.max_zip_total_bytes)}")
    if _ratio_exceeded(size, info.compress_size, limits):
        raise ZipRejected(f"'{name}' giải nén gấp hơn {limits.max_zip_ratio} lần")



_TNEF_SIGNATURE = 0x223E9F78
_TNEF_ATTACH_START = 0x9002  # attAttachRenddata: each attachment begins with it
_TNEF_ATTACH_TITLE = 0x8010  # short (8.3) name in the OEM code page
_TNEF_ATTACH_DATA = 0x800F
_TNEF_ATTACH_PROPS = 0x9005  # MAPI properties: the long file name
_TNEF_CODEPAGE = 0x9007
_MAPI_LONG_FILENAME = 0x3707
_MAPI_ATTACH_DATA = 0x3701
_MAPI_FIXED = {0x0001: 4, 0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
               0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_MAPI_VARIABLE = frozenset({0x000D, 0x001E, 0x001F, 0x0102})


@dataclass
class _TnefFile:
    title: bytes = b""
    long_name: str = ""
    data: bytes = b""

    def name(self, codepage: str) -> str:
        return self.long_name or decode_bytes(self.title.rstrip(b"\x00"), codepage)


def read_tnef(data: bytes, max_objects: int) -> list[tuple[str, bytes]]:
    """(name, data) of each attachment in a TNEF stream; ValueError if unreadable."""
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _TNEF_SIGNATURE:
        raise ValueError("not a TNEF stream")
    offset, codepage, files = 6, "cp1252", []
    for _ in range(max_objects):
        if offset + 9 > len(data):
            return [(f.name(codepage), f.data) for f in files if f.data]
        level, attribute, length = struct.unpack_from("<BII", data, offset)
        body = data[offset + 9:offset + 9 + length]
        if len(body) != length:
            raise ValueError("TNEF stream is cut short")
        offset += 9 + length + 2  # + checksum
        _tnef_attribute(attribute & 0xFFFF, level, body, files)
        if attribute & 0xFFFF == _TNEF_CODEPAGE and length >= 4:
            codepage = codec_for(f"cp{struct.unpack_from('<I', body)[0]}") or "cp1252"
    raise ValueError("too many TNEF objects")


def _tnef_attribute(attribute: int, level: int, body: bytes, files: list[_TnefFile]) -> None:
    if attribute == _TNEF_ATTACH_START:
        files.append(_TnefFile())
    elif level != 2 or not files:
        return
    elif attribute == _TNEF_ATTACH_TITLE:
        files[-1].title = body
    elif attribute == _TNEF_ATTACH_DATA:
        files[-1].data = body
    elif attribute == _TNEF_ATTACH_PROPS:
        props = _mapi_properties(body)
        long_name = props.get(_MAPI_LONG_FILENAME)
        if long_name:
            files[-1].long_name = long_name[0]
        if not files[-1].data and isinstance(props.get(_MAPI_ATTACH_DATA, [None])[0], bytes):
            files[-1].data = props[_MAPI_ATTACH_DATA][0]


def _mapi_properties(body: bytes) -> dict[int, list]:
    """Values of a MAPI property block (strings decoded); stops at anything odd.

    Every count read from the file is checked against the bytes left, so a
    forged count cannot make this loop longer than the block itself.
    """
    props: dict[int, list] = {}
    try:
        count, offset = struct.unpack_from("<I", body)[0], 4
        for _ in range(min(count, len(body) // 4)):
            ptype, pid = struct.unpack_from("<HH", body, offset)
            offset = _skip_named_property(body, offset + 4, pid)
            values, offset = _mapi_values(body, offset, ptype)
            props[pid] = values
    except (struct.error, ValueError, UnicodeError):
        pass
    return props


def _skip_named_property(body: bytes, offset: int, pid: int) -> int:
    if pid < 0x8000:
        return offset
    kind = struct.unpack_from("<I", body, offset + 16)[0]
    if kind == 0:
        return offset + 24
    length = struct.unpack_from("<I", body, offset + 20)[0]
    return offset + 24 + length + (-length % 4)


def _mapi_values(body: bytes, offset: int, ptype: int) -> tuple[list, int]:
    multi = bool(ptype & 0x1000)
    ptype &= ~0x1000
    count = 1
    if multi or ptype in _MAPI_VARIABLE:
        count, offset = struct.unpack_from("<I", body, offset)[0], offset + 4
    if count > (len(body) - offset) // 2 + 1:
        raise ValueError("MAPI value count larger than its data")
    if ptype in _MAPI_FIXED:
        size = _MAPI_FIXED[ptype]
        end = offset + size * count
        return [body[offset + i * size:offset + (i + 1) * size] for i in range(count)], end + (-end % 4)
    if ptype not in _MAPI_VARIABLE:
        raise ValueError(f"unknown MAPI type {ptype:#x}")
    values = []
    for _ in range(count):
        length = struct.unpack_from("<I", body, offset)[0]
        raw = body[offset + 4:offset + 4 + length]
        offset += 4 + length + (-length % 4)
        values.append(_mapi_value(ptype, raw))
    return values, offset


def _mapi_value(ptype: int, raw: bytes):
    if ptype == 0x001F:
        return raw.decode("utf-16-le", "replace").rstrip("\x00")
    if ptype == 0x001E:
        return decode_8bit(raw.rstrip(b"\x00"))
    return raw
