"""Tesseract, loaded once per process through its C API (libtesseract, ctypes), or its command.

``tesseract(image, dpi, limits)`` gives tesseract's TSV for a grayscale
image, memoised by the hash of the pixels; what the TSV says is put in
reading order by ``ocr_tsv``.
"""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import hashlib
import io
import os
import subprocess

from .common import ExtractLimits
from .heap import trim_heap


class _Memo:
    """Tesseract output by the hash of the pixels read and how (bounded, oldest dropped first).

    One per process: a worker reads many files, and the same page image may
    come in two of them (a scan sent alone, then inside a combined file).
    """

    def __init__(self, size: int = 256):
        self.size, self.items = size, {}

    def get(self, key: str) -> str | None:
        return self.items.get(key)

    def put(self, key: str, value: str) -> None:
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[key] = value


_LEPT_SEVERITY_NONE = 6  # Leptonica's L_SEVERITY_NONE: no messages
_PSM_AUTO = 3  # tesseract's PSM_AUTO: find the blocks and columns of the page
_TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"


class _Engine:
    """Tesseract loaded once in this process through its C API (libtesseract, ctypes).

    The ``tesseract`` command costs 0.1 s of CPU to start for every image
    (more than reading a page's head takes); in the process, the language
    data is loaded once and each image costs only its reading. The pixels
    are handed over as they are (no PNG written and read back). When the
    library cannot be loaded, ``tsv`` returns None and the command is used.
    """

    def __init__(self):
        self._api = None
        self._lib = None
        self._failed = False

    def _load(self) -> bool:
        if self._api is not None or self._failed:
            return not self._failed
        # one thread per tesseract: the pool already has a worker per core
        # (read by OpenMP when the library loads, so set before it is)
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("tesseract") or "libtesseract.so.5")
            c_void_p, c_int = ctypes.c_void_p, ctypes.c_int
            lib.TessBaseAPICreate.restype = c_void_p
            lib.TessBaseAPIInit3.argtypes = [c_void_p, ctypes.c_char_p, ctypes.c_char_p]
            lib.TessBaseAPISetImage.argtypes = [c_void_p, ctypes.c_char_p, c_int, c_int, c_int, c_int]
            lib.TessBaseAPISetSourceResolution.argtypes = [c_void_p, c_int]
            lib.TessMonitorCreate.restype = c_void_p
            lib.TessMonitorSetDeadlineMSecs.argtypes = [c_void_p, c_int]
            lib.TessMonitorDelete.argtypes = [c_void_p]
            lib.TessBaseAPIRecognize.argtypes = [c_void_p, c_void_p]
            lib.TessBaseAPIGetTsvText.argtypes = [c_void_p, c_int]
            lib.TessBaseAPIGetTsvText.restype = c_void_p
            lib.TessDeleteText.argtypes = [c_void_p]
            lib.TessBaseAPIEnd.argtypes = [c_void_p]
            lib.TessBaseAPIDelete.argtypes = [c_void_p]
            lib.TessBaseAPIClear.argtypes = [c_void_p]
            lib.TessBaseAPISetPageSegMode.argtypes = [c_void_p, c_int]
            lib.TessBaseAPISetVariable.argtypes = [c_void_p, ctypes.c_char_p, ctypes.c_char_p]
            api = lib.TessBaseAPICreate()
            if not api or lib.TessBaseAPIInit3(api, None, b"vie") != 0:
                raise OSError("tesseract: cannot load the Vietnamese data")
            lib.TessBaseAPISetPageSegMode(api, _PSM_AUTO)  # as the command does (the library's default is one block)
            lib.TessBaseAPISetVariable(api, b"debug_file", os.devnull.encode())  # its notes to stderr
        except (OSError, AttributeError):
            self._failed = True
            return False
        try:  # Leptonica's notes on odd images ("Error in boxClipToRectangle") went to the command's stderr
            ctypes.CDLL(ctypes.util.find_library("lept") or "liblept.so.5").setMsgSeverity(_LEPT_SEVERITY_NONE)
        except (OSError, AttributeError):
            pass
        self._lib, self._api = lib, api
        atexit.register(self.close)  # frees the language data before exit (else tesseract warns of leaks)
        return True

    def tsv(self, image, dpi: int, timeout: float, psm: int = _PSM_AUTO) -> str | None:
        """Tesseract's TSV for an 8-bit grayscale image, or None without the library.
        ``psm``: tesseract's page segmentation mode (automatic; 6: one block of text)."""
        if not self._load():
            return None
        lib, api = self._lib, self._api
        lib.TessBaseAPISetPageSegMode(api, psm)
        data = image.tobytes()
        lib.TessBaseAPISetImage(api, data, image.width, image.height, 1, image.width)
        del data  # tesseract copied the pixels: not kept through the recognition (4 MB for a whole page)
        lib.TessBaseAPISetSourceResolution(api, dpi)
        monitor = lib.TessMonitorCreate()
        lib.TessMonitorSetDeadlineMSecs(monitor, int(timeout * 1000))
        try:
            if lib.TessBaseAPIRecognize(api, monitor) != 0:
                raise RuntimeError(f"OCR quá {timeout:g} giây")
        finally:
            lib.TessMonitorDelete(monitor)
        text = lib.TessBaseAPIGetTsvText(api, 0)
        try:
            return _TSV_HEADER + (ctypes.string_at(text).decode("utf-8", "replace") if text else "")
        finally:
            if text:
                lib.TessDeleteText(text)
            lib.TessBaseAPIClear(api)  # the page's image and results: not kept until the next one
            # glibc keeps what tesseract freed (tens of MB after a whole page) for the next
            # allocation; given back, two workers' peaks do not add up in the process tree
            trim_heap()
            if psm != _PSM_AUTO:
                lib.TessBaseAPISetPageSegMode(api, _PSM_AUTO)

    def close(self) -> None:
        if self._api is not None:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None


# Per process (each extraction worker has its own): the loaded engine and
# what it has read. Module state because a worker's files come through
# ``extract()`` one by one and both outlive a file.
_MEMO = _Memo()
_ENGINE = _Engine()


def tesseract(image, dpi: int, limits: ExtractLimits, psm: int = _PSM_AUTO) -> str:
    """Tesseract's TSV for a grayscale image (memoised by content); raises on failure/timeout.
    ``psm``: the page segmentation mode (default automatic, as the command's)."""
    digest = hashlib.sha256(image.tobytes())
    digest.update(f"{image.mode}:{image.size}:{dpi}:{psm}".encode())
    key = digest.hexdigest()
    found = _MEMO.get(key)
    if found is not None:
        return found
    if image.mode != "L":
        image = image.convert("L")
    tsv = _ENGINE.tsv(image, dpi, limits.ocr_timeout, psm)
    if tsv is None:
        tsv = _tesseract_command(image, dpi, limits, psm)
    _MEMO.put(key, tsv)
    return tsv


def _tesseract_command(image, dpi: int, limits: ExtractLimits, psm: int = _PSM_AUTO) -> str:
    """The same through the ``tesseract`` command (no library to load)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)  # fast: the bytes live a few ms
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # the pool already uses every core
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", "vie", "--dpi", str(dpi), "--psm", str(psm), "tsv"],
                          input=buf.getvalue(), capture_output=True, timeout=limits.ocr_timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[-200:])
    return done.stdout.decode("utf-8", "replace")
