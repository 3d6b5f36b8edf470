"""Build the documents the official-copy tests need, on the fly.

- A test PKI (root CA, signer certificates with chosen validity) made with
  ``cryptography``; PDFs signed with it by pyHanko, and the ways a signed
  PDF gets changed afterwards (incremental update adding a page, bytes edited
  inside the signed range, an annotation, a second signature).
- Page images (Pillow) of a Vietnamese administrative document's last page:
  with or without the red round seal over the signature block, rotated,
  shadowed, faint, too dark, grayscale, with red titles or a red logo at
  the top (things that must NOT count as a seal).

Nothing is read from disk except the DejaVu fonts Debian ships.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
SERIF = f"{FONT_DIR}/DejaVuSerif.ttf"
SERIF_BOLD = f"{FONT_DIR}/DejaVuSerif-Bold.ttf"

UTC = timezone.utc


# --------------------------------------------------------------------------
# Test PKI
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """A certificate (DER) with its private key (PKCS#8 DER)."""

    cert: bytes
    key: bytes

    @property
    def pem(self) -> bytes:
        import base64

        body = base64.encodebytes(self.cert).replace(b"\n", b"")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def _name(cn: str, org: str | None):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _der_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_identity(cn: str, org: str | None, not_before: datetime, not_after: datetime,
                  issuer: Identity | None = None, ca: bool = False, usage: str = "signing") -> Identity:
    """A certificate for ``cn``/``org``; self-signed when ``issuer`` is None.

    ``usage`` (end entities): "signing" (digitalSignature + nonRepudiation),
    "none" (no key usage extension) or "client_auth" (only the TLS client
    extended key usage, as some CAs issue signing certificates).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    if issuer is None:
        issuer_name, issuer_key = _name(cn, org), key
    else:
        issuer_name = x509.load_der_x509_certificate(issuer.cert).subject
        issuer_key = serialization.load_der_private_key(issuer.key, None)
    builder = (x509.CertificateBuilder().subject_name(_name(cn, org)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        usage_ext = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage_ext, critical=True)
    elif usage == "signing":  # digitalSignature + nonRepudiation, as Vietnamese CA tokens issue them
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
    elif usage == "client_auth":
        from cryptography.x509.oid import ExtendedKeyUsageOID

        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    return Identity(cert.public_bytes(serialization.Encoding.DER), _der_key(key))


@dataclass(frozen=True)
class Pki:
    """A root CA, a signer valid around ``now``, and the variants tests need."""

    root: Identity
    signer: Identity
    organisation: Identity   # the school's "seal" certificate (second signature)
    expired: Identity        # valid 2019-2020 only
    stranger_root: Identity
    stranger: Identity       # chains to stranger_root, not to root


def make_pki(now: datetime) -> Pki:
    year = timedelta(days=365)
    root = make_identity("Test Root CA", "Test CA", now - 10 * year, now + 10 * year, ca=True)
    stranger_root = make_identity("Other Root CA", "Other CA", now - 10 * year, now + 10 * year, ca=True)
    return Pki(
        root=root,
        signer=make_identity("Nguyễn Văn A", "Trường THCS Nguyễn Hiền", now - 2 * year, now + 2 * year, root),
        organisation=make_identity("Trường THCS Nguyễn Hiền", "Trường THCS Nguyễn Hiền",
                                   now - 2 * year, now + 2 * year, root),
        expired=make_identity("Trần Thị B", "Trường TH Lê Văn Thọ",
                              datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 12, 31, tzinfo=UTC), root),
        stranger_root=stranger_root,
        stranger=make_identity("Lê Văn C", "Trường MN Hoa Mai", now - year, now + year, stranger_root),
    )


# --------------------------------------------------------------------------
# PDFs, signed and changed
# --------------------------------------------------------------------------

def plain_pdf(lines: tuple[str, ...] = ("TỜ TRÌNH", "Số: 12/TTr-THCSNH", "Về việc đề nghị công nhận"),
              pages: int = 1) -> bytes:
    """An uncompressed text PDF (so tests can find and edit its text bytes)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSerif", SERIF))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0)
    for _ in range(pages):
        c.setFont("Helvetica", 12)
        c.drawString(72, 800, "MARKER-CONTENT-0123456789")  # plain bytes, for in-range edits
        c.setFont("DejaVuSerif", 12)
        for i, line in enumerate(lines):
            c.drawString(72, 770 - 18 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_tsa(root: Identity, now: datetime) -> Identity:
    """A time-stamping authority's certificate and key, issued by ``root`` (RSA: pyHanko's test TSA needs it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = x509.load_der_x509_certificate(root.cert)
    cert = (x509.CertificateBuilder().subject_name(_name("Test TSA", "Test CA")).issuer_name(issuer.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=3650)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(serialization.load_der_private_key(root.key, None), hashes.SHA256()))
    return Identity(cert.public_bytes(serialization.Encoding.DER), _der_key(key))


def stamper(tsa: Identity, at: datetime):
    """pyHanko's test timestamper, answering as ``tsa`` with the time ``at``."""
    from asn1crypto import keys, x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    return DummyTimeStamper(tsa_cert=x509.Certificate.load(tsa.cert), tsa_key=keys.PrivateKeyInfo.load(tsa.key),
                            fixed_dt=at)


def timestamp_document(signed: bytes, tsa) -> bytes:
    """A document timestamp (archival, PAdES-LTA) added after signing: not a change of content."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    w = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    return signers.PdfTimeStamper(tsa).timestamp_pdf(w, "sha256").getvalue()


def sign(pdf: bytes, who: Identity, chain: tuple[Identity, ...], signed_at: datetime | None = None,
         field: str = "Signature1", timestamper=None) -> bytes:
    """``pdf`` signed (incrementally) by ``who``, claiming ``signed_at`` as signing time."""
    from asn1crypto import keys, x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=x509.Certificate.load(who.cert),
        signing_key=keys.PrivateKeyInfo.load(who.key),
        cert_registry=SimpleCertificateStore.from_certs([x509.Certificate.load(c.cert) for c in chain]))

    class _AtTime(signers.PdfSigner):
        # pyHanko always signs "now"; tests need a chosen signing time
        def init_signing_session(self, pdf_out, existing_fields_only=False):
            session = super().init_signing_session(pdf_out, existing_fields_only)
            if signed_at is not None:
                session.system_time = signed_at
            return session

    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256")
    out = _AtTime(meta, signer=signer, timestamper=timestamper).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False))
    return out.getvalue()


def add_page_after_signing(signed: bytes, text: str = "Trang thêm sau khi ký") -> bytes:
    """An incremental update that adds a page with new content (a tampering)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    stream = f"BT /F1 12 Tf 72 700 Td ({text.encode('ascii', 'replace').decode()}) Tj ET".encode()
    font = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Font"),
        generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
        generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica")})
    resources = generic.DictionaryObject({generic.NameObject("/Font"): generic.DictionaryObject(
        {generic.NameObject("/F1"): w.add_object(font)})})
    w.insert_page(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
        generic.NameObject("/Resources"): resources,
        generic.NameObject("/Contents"): w.add_object(generic.StreamObject(stream_data=stream)),
    }))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def overwrite_page_after_signing(signed: bytes) -> bytes:
    """An incremental update that replaces the first page's content stream."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    page["/Contents"] = w.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 700 Td (So: 99) Tj ET"))
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def edit_inside_signed_range(signed: bytes) -> bytes:
    """The same length of bytes, one digit changed inside the signed range."""
    at = signed.index(b"MARKER-CONTENT-0123456789")
    return signed[:at + 15] + b"9" + signed[at + 16:]


def append_bytes(signed: bytes, tail: bytes = b"\n% appended after signing\n") -> bytes:
    """Bytes after the signed revision that are not an update (file not wholly covered)."""
    return signed + tail


# --------------------------------------------------------------------------
# Page images: the last page of a scanned or photographed document
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """What to draw on a page image (A4 at ~60 dpi unless ``width`` says otherwise)."""

    seal: bool = True
    signature: bool = True          # blue handwritten scribble under the title
    title: str = "HIỆU TRƯỞNG"
    name: str = "Nguyễn Văn An"
    red_title: bool = False         # document title printed in red at the top
    red_logo: bool = False          # a round red logo top left (must not count)
    red_underline: bool = False     # a long red rule (must not count)
    red_circle: bool = False        # a red pen's circle around a word (must not count)
    seal_strength: float = 1.0      # < 0.5: faint, half-dry ink
    seal_radius: float = 0.085      # share of page width (a 36 mm seal on A4 ~ 0.085)
    rotate: float = 0.0             # degrees (a photo)
    shadow: bool = False            # a phone's shadow across the lower half
    darkness: float = 1.0           # < 0.3: a photo too dark
    grayscale: bool = False         # a black-and-white scan
    width: int = 620


def _fonts(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(SERIF, size), ImageFont.truetype(SERIF_BOLD, size)


def page_image(spec: Page = Page()):
    """A Pillow RGB image of a document's last page drawn from ``spec``."""
    from PIL import Image, ImageDraw, ImageFilter

    w = spec.width
    h = int(w * 1.414)
    img = Image.new("RGB", (w, h), (250, 250, 247))
    d = ImageDraw.Draw(img)
    regular, bold = _fonts(max(8, w // 48))
    s = w / 620
    black, red, blue = (20, 20, 20), (200, 25, 30), (30, 50, 170)
    d.text((40 * s, 30 * s), "UBND QUẬN 12", font=regular, fill=black)
    d.text((40 * s, 48 * s), "TRƯỜNG THCS NGUYỄN HIỀN", font=bold, fill=black)
    d.text((330 * s, 30 * s), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=bold, fill=black)
    d.text((360 * s, 48 * s), "Độc lập - Tự do - Hạnh phúc", font=bold, fill=black)
    if spec.red_logo:
        cx, cy, r = 30 * s, 40 * s, 26 * s
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=red)
        d.ellipse((cx - r * 0.5, cy - r * 0.5, cx + r * 0.5, cy + r * 0.5), fill=(250, 220, 0))
    title_font = _fonts(max(10, w // 30))[1]
    d.text((250 * s, 110 * s), "TỜ TRÌNH", font=title_font, fill=red if spec.red_title else black)
    if spec.red_title:
        d.text((150 * s, 140 * s), "Về việc đề nghị công nhận đơn vị điển hình", font=bold, fill=red)
    for i in range(22):
        d.text((50 * s, (180 + 20 * i) * s), "Nội dung văn bản " + "x" * (30 + (i * 7) % 25),
               font=regular, fill=black)
    if spec.red_underline:
        d.rectangle((50 * s, 170 * s, 570 * s, 174 * s), fill=red)
    if spec.red_circle:
        d.ellipse((300 * s, 330 * s, 390 * s, 420 * s), outline=red, width=max(2, int(3 * s)))
    # signature block, bottom right
    d.text((40 * s, 660 * s), "Nơi nhận:", font=bold, fill=black)
    d.text((40 * s, 678 * s), "- Như trên;", font=regular, fill=black)
    d.text((40 * s, 696 * s), "- Lưu: VT.", font=regular, fill=black)
    bx = 380 * s
    d.text((bx, 660 * s), spec.title, font=bold, fill=black)
    if spec.signature:
        pts = [(bx + 10 * s + k * 6 * s, 720 * s + 14 * s * math.sin(k * 1.3)) for k in range(18)]
        d.line(pts, fill=blue, width=max(1, int(2 * s)))
    d.text((bx, 775 * s), spec.name, font=bold, fill=black)
    if spec.seal:
        _draw_seal(img, (bx - 5 * s, 720 * s), spec.seal_radius * w, spec.seal_strength)
    if spec.shadow:
        shade = Image.new("L", (w, h), 0)
        sd = ImageDraw.Draw(shade)
        sd.polygon([(0, h * 0.45), (w, h * 0.6), (w, h), (0, h)], fill=110)
        shade = shade.filter(ImageFilter.GaussianBlur(w // 20))
        img = Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), img, shade)
    if spec.darkness < 1.0:
        img = img.point(lambda v: int(v * spec.darkness))
    if spec.rotate:
        img = img.rotate(spec.rotate, expand=True, fillcolor=(90, 80, 70), resample=Image.BICUBIC)
    if spec.grayscale:
        img = img.convert("L").convert("RGB")
    return img


def _draw_seal(img, centre: tuple[float, float], radius: float, strength: float) -> None:
    """A round red seal: two rings, text around, a star in the middle, blended like ink."""
    from PIL import Image, ImageDraw

    size = int(radius * 2 + 4)
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    c = size / 2
    line = max(2, int(radius * 0.07))
    d.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=line)
    d.ellipse((c - radius * 0.72, c - radius * 0.72, c + radius * 0.72, c + radius * 0.72), outline=255,
              width=max(1, line // 2))
    font = _fonts(max(6, int(radius * 0.16)))[1]
    text = "TRƯỜNG THCS NGUYỄN HIỀN * Q.12 * "
    for k, ch in enumerate(text):
        a = 2 * math.pi * k / len(text) - math.pi / 2
        d.text((c + radius * 0.86 * math.cos(a) - 3, c + radius * 0.86 * math.sin(a) - 4), ch, font=font,
               fill=255)
    star = [(c + radius * (0.3 if k % 2 == 0 else 0.12) * math.cos(math.pi * k / 5 - math.pi / 2),
             c + radius * (0.3 if k % 2 == 0 else 0.12) * math.sin(math.pi * k / 5 - math.pi / 2))
            for k in range(10)]
    d.polygon(star, fill=255)
    mask = mask.point(lambda v: int(v * 0.85 * strength))
    ink = Image.new("RGB", (size, size), (215, 30, 40))
    img.paste(ink, (int(centre[0] - c), int(centre[1] - c)), mask)


def png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def jpeg(img, quality: int = 70) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --------------------------------------------------------------------------
# A labelled set of documents, for evidence precision and recall
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Labelled:
    """One generated document with the truth about it.

    ``truth``: whether it is the official paper the policy asks for
    (signed or stamped, numbered, dated in the cycle, a complete minutes).
    ``kind``: the variant, for the per-variant table. ``signature``:
    "valid", "tampered", "invalid" (expired when signed) or "" (none).
    """

    name: str
    kind: str
    truth: bool
    medium: str
    lines: tuple[str, ...]
    pdf: bytes | None = None
    images: tuple = ()
    is_minutes: bool = False
    signature: str = ""


def _doc_lines(rng, kind_code: str, number_ok: bool, date_ok: bool, title: str, minutes_ok: bool | None,
               block: bool) -> tuple[str, ...]:
    number = f"Số: {rng.randint(1, 99)}/{kind_code}-THCSNH" if number_ok else f"Số:      /{kind_code}-THCSNH"
    day = (f"Quận 12, ngày {rng.randint(1, 30):02d} tháng 9 năm 2023" if date_ok
           else rng.choice(["Quận 12, ngày 28 tháng 9 năm 2022", "Quận 12, ngày     tháng 10 năm 2023"]))
    lines = ["UBND QUẬN 12                      CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "TRƯỜNG THCS NGUYỄN HIỀN           Độc lập - Tự do - Hạnh phúc",
             f"{number}                 {day}", title]
    if minutes_ok is not None:
        lines += ["Thời gian: 14 giờ 00, ngày 03 tháng 10 năm 2023", "Địa điểm: Phòng họp",
                  "Thành phần: Ban Giám hiệu, Công đoàn (có mặt 25/27)", "Chủ trì: Ông Nguyễn Văn An",
                  "Thư ký: Bà Lê Thị Hoa"]
        if minutes_ok:
            lines += ["Kết quả biểu quyết: 25/25 tán thành (100%).",
                      "Hội nghị thống nhất đề nghị Phòng Giáo dục và Đào tạo xét công nhận."]
        else:
            lines += ["Hội nghị đã nghe báo cáo và thảo luận."]
    else:
        lines += ["Kính gửi: Phòng Giáo dục và Đào tạo Quận 12", "Nội dung văn bản ..."]
    if block:
        lines += ["Nơi nhận:                         HIỆU TRƯỞNG", "- Như trên;", "", "Nguyễn Văn An"]
    return tuple(lines)


def labelled_corpus(seed: int, n: int, now: datetime, pki: Pki | None = None) -> list[Labelled]:
    """``n`` documents of every variant, drawn with ``random.Random(seed)``.

    Variants (weights): signed PDFs (valid; valid then signed by the
    organisation; valid with an untrusted root; certificate expired since;
    page added, content replaced or bytes edited after signing; certificate
    expired when signed), Word drafts, unsigned text PDFs, typed copies
    "(Đã ký)", scans and photos with or without a seal (rotation, shadow,
    dimness, JPEG quality, red title/logo/rule/pen circle drawn at random),
    faint seals, and documents whose number, date or minutes are wrong.
    """
    import random

    rng = random.Random(seed)
    pki = pki or make_pki(now)
    signed_at = datetime(2023, 9, 20, 3, 0, tzinfo=UTC)
    base_pdf_cache: dict[tuple, bytes] = {}
    out: list[Labelled] = []
    kinds = ["pdf_valid", "pdf_two_signers", "pdf_untrusted", "pdf_expired_since", "pdf_page_added",
             "pdf_content_replaced", "pdf_bytes_edited", "pdf_expired_when_signed", "word", "text_pdf",
             "typed_copy", "scan_stamped", "scan_stamped", "scan_unstamped", "scan_faint", "scan_no_block_text"]
    for i in range(n):
        kind = rng.choice(kinds)
        minutes = rng.random() < 0.3
        code, title = ("BB", "BIÊN BẢN HỌP XÉT, ĐỀ NGHỊ") if minutes else ("TTr", "TỜ TRÌNH")
        number_ok, date_ok = rng.random() > 0.1, rng.random() > 0.1
        minutes_ok = (rng.random() > 0.25) if minutes else None
        text_ok = number_ok and date_ok and minutes_ok is not False
        block = kind != "scan_no_block_text"
        lines = _doc_lines(rng, code, number_ok, date_ok, title, minutes_ok, block)
        if kind == "typed_copy":
            lines = lines[:-1] + ("(Đã ký)", lines[-1])
        name = f"{i:04d}-{kind}"
        if kind.startswith("pdf_"):
            key = lines
            plain = base_pdf_cache.setdefault(key, plain_pdf(lines))
            who, chain = {"pdf_untrusted": (pki.stranger, (pki.stranger_root,)),
                          "pdf_expired_since": (pki.expired, (pki.root,)),
                          "pdf_expired_when_signed": (pki.expired, (pki.root,))}.get(kind, (pki.signer, (pki.root,)))
            at = datetime(2020, 6, 1, tzinfo=UTC) if kind == "pdf_expired_since" else signed_at
            pdf = sign(plain, who, chain, at)
            signature = "valid"
            if kind == "pdf_two_signers":
                pdf = sign(pdf, pki.organisation, (pki.root,), at, field="Signature2")
            elif kind == "pdf_page_added":
                pdf, signature = add_page_after_signing(pdf), "tampered"
            elif kind == "pdf_content_replaced":
                pdf, signature = overwrite_page_after_signing(pdf), "tampered"
            elif kind == "pdf_bytes_edited":
                pdf, signature = edit_inside_signed_range(pdf), "tampered"
            elif kind == "pdf_expired_when_signed":
                signature = "invalid"
            truth = signature == "valid" and text_ok
            out.append(Labelled(name, kind, truth, "text_pdf", lines, pdf=pdf, is_minutes=minutes,
                                signature=signature))
        elif kind in ("word", "typed_copy"):
            out.append(Labelled(name, kind, False, "word", lines, is_minutes=minutes))
        elif kind == "text_pdf":
            out.append(Labelled(name, kind, False, "text_pdf", lines, pdf=plain_pdf(lines), is_minutes=minutes))
        else:
            stamped = kind != "scan_unstamped"
            spec = Page(
                seal=stamped,
                seal_strength=rng.uniform(0.25, 0.45) if kind == "scan_faint" else rng.uniform(0.75, 1.0),
                seal_radius=rng.uniform(0.07, 0.1),
                rotate=rng.choice([0, 0, rng.uniform(-15, 15)]),
                shadow=rng.random() < 0.3,
                darkness=rng.choice([1.0, 1.0, rng.uniform(0.5, 0.9)]),
                red_title=rng.random() < 0.2, red_logo=rng.random() < 0.2, red_underline=rng.random() < 0.1,
                red_circle=rng.random() < 0.1,
                width=rng.choice([500, 620, 900, 1240]),
                title="CHỦ TỌA" if minutes else "HIỆU TRƯỞNG",
            )
            from PIL import Image

            img = page_image(spec)
            if rng.random() < 0.6:
                img = Image.open(io.BytesIO(jpeg(img, rng.randint(40, 90))))
            out.append(Labelled(name, kind, stamped and text_ok, "scan", lines, images=((1, img),),
                                is_minutes=minutes))
    return out
