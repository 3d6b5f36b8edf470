"""Vietnamese text: folding, TCVN3/VNI conversion and detection, PDF repairs."""
from __future__ import annotations

import random
import re
import string
import unicodedata
from pathlib import Path

import pytest

from bot.vietnamese import (
    convert_legacy, detect_legacy, fix_legacy, fold, fold_compact, font_capitals, font_encoding,
    is_syllable, join_letter_spaced, nfc, repair_marks, tcvn3_to_unicode, tcvn3h_to_unicode,
    vietnamese_letters, vni_to_unicode,
)

# --- folding (existing behaviour kept) ----------------------------------------

@pytest.mark.parametrize("text, folded", [
    ("Tờ  TRÌNH đề nghị", "to trinh de nghi"),
    ("CỘNG HOÀ", "cong hoa"),
    ("CỘNG HÒA", "cong hoa"),
    ("\u00d0ộc lập", "doc lap"),             # Ð (U+00D0) look-alike of Đ
    ("Tờ\u00a0trình\u200b", "to trinh"),
    (unicodedata.normalize("NFD", "Tờ trình"), "to trinh"),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_compact_matches_letter_spaced_title():
    assert fold_compact("T Ờ  T R Ì N H") == fold_compact("Tờ trình") == "totrinh"


def _reference_fold(text: str) -> str:
    """The original, obviously correct (and slow) fold: NFC, casefold, NFD, no marks, đ->d."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = "".join(ch for ch in text if ch not in "\u200b\u200c\u200d\u2060\ufeff")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d").replace("\u00f0", "d")
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def _vietnamese_strings() -> list[str]:
    """A corpus: every letter alone and in words, the rules' vocabulary, the
    reference notes, NFD and old-style tone placement, odd spaces, and random
    mixes of Vietnamese letters, ASCII and spaces."""
    root = Path(__file__).resolve().parents[1]
    letters = vietnamese_letters()
    strings = list(letters) + ["".join(letters), " ".join(letters)]
    for path in (root / "rules" / "campaign.toml", root / "rules" / "schools.csv"):
        strings += path.read_text(encoding="utf-8").splitlines()
    strings += ["Tờ trình đề nghị công nhận", "CỘNG HOÀ XÃ HỘI", "hoà thuỷ khoẻ", "Hòa Thủy Khỏe",
                "Ð\u00f0Đđ", "a\u00a0b\u202fc\u200bd\ufeffe", "\tTAB\r\nnew  line ", "", "   "]
    strings += [unicodedata.normalize("NFD", s) for s in strings[-9:]]
    rng = random.Random(20231010)
    alphabet = list(letters) + list(string.ascii_letters + string.digits + " .,:;/()-'\n") + ["\u00a0", "\u200b"]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200))) for _ in range(2000)]
    return strings


def test_fold_equals_reference_on_vietnamese_text():
    strings = _vietnamese_strings()
    assert len(strings) > 2000
    for text in strings:
        for form in (text, unicodedata.normalize("NFD", text)):
            assert fold(form) == _reference_fold(form), repr(form)


@pytest.mark.parametrize("text, folded", [
    ("năm học 2022–2023", "nam hoc 2022-2023"),     # Word's en dash is a dash
    ("Độc lập — Tự do − Hạnh phúc", "doc lap - tu do - hanh phuc"),
    ("“ANTQ” • an ninh…", "antq an ninh"),           # no ASCII form: a space
    ("trình\u00adbày", "trinhbay"),                    # soft hyphen inside a word
    ("Straße ﬁle", "strasse file"),                   # casefold expansions kept
])
def test_fold_beyond_vietnamese_letters_is_ascii(text, folded):
    assert fold(text) == folded
    assert fold(text).isascii()


# --- conversion tables ----------------------------------------------------------

def _unicode_to_tcvn3(letter: str) -> str:
    inverse = {tcvn3_to_unicode(chr(b)): chr(b) for b in range(0xA1, 0x100)}
    return inverse[letter]


def test_alphabet_has_134_distinct_letters():
    letters = vietnamese_letters()
    assert len(letters) == len(set(letters)) == 134
    assert {"ư", "Ư", "đ", "Đ", "ỹ", "Ỹ", "ặ", "Ặ"} <= set(letters)


def test_every_lower_case_letter_and_toneless_capital_round_trips_through_tcvn3():
    # TCVN3 (VN3) has all 67 lower-case letters and 7 toneless capitals.
    letters = [ch for ch in vietnamese_letters() if ch.islower()] + list("ĂÂĐÊÔƠƯ")
    for letter in letters:
        assert tcvn3_to_unicode(_unicode_to_tcvn3(letter)) == letter
    assert len({_unicode_to_tcvn3(ch) for ch in letters}) == 74  # one code each


def test_every_letter_both_cases_converts_from_vni():
    # Build VNI spellings from the encoding's rule (base + mark byte) and check all 134.
    plain = {"": "", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0301": "ù", "\u0323": "ï"}
    circ = {"": "â", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0301": "á", "\u0323": "ä"}
    breve = {"": "ê", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0301": "é", "\u0323": "ë"}
    single_i = {"": "i", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0301": "í", "\u0323": "ò"}
    spelled = {}
    for tone in plain:
        for base, vni in (("a", "a" + plain[tone]), ("ă", "a" + breve[tone]), ("â", "a" + circ[tone]),
                          ("e", "e" + plain[tone]), ("ê", "e" + circ[tone]), ("i", single_i[tone]),
                          ("o", "o" + plain[tone]), ("ô", "o" + circ[tone]), ("ơ", "ô" + plain[tone]),
                          ("u", "u" + plain[tone]), ("ư", "ö" + plain[tone]),
                          ("y", "î" if tone == "\u0323" else "y" + plain[tone])):
            spelled[nfc(base + tone)] = vni
    spelled["đ"] = "ñ"
    for letter in vietnamese_letters():
        lower = letter.lower()
        vni = spelled[lower] if letter.islower() else spelled[lower].upper()
        assert vni_to_unicode(vni) == letter, (letter, vni)


@pytest.mark.parametrize("legacy, expected", [
    ("Tê tr×nh", "Tờ trình"),
    ("B¸o c¸o", "Báo cáo"),
    ("Biªn b¶n", "Biên bản"),
    ("KÕ ho¹ch", "Kế hoạch"),
    ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam"),
    ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
    ("Tr\u00adêng THCS NguyÔn Tr·i", "Trường THCS Nguyễn Trãi"),  # 0xAD is ư
])
def test_tcvn3_to_unicode(legacy, expected):
    assert tcvn3_to_unicode(legacy) == expected


def test_tcvn3_capital_font_shows_capitals():
    assert tcvn3h_to_unicode("Tê tr×nh") == "TỜ TRÌNH"
    assert convert_legacy("b¸o c¸o", "tcvn3", capitals=True) == "BÁO CÁO"


@pytest.mark.parametrize("legacy, expected", [
    ("Tôø trình", "Tờ trình"),
    ("Baùo caùo", "Báo cáo"),
    ("Bieân baûn", "Biên bản"),
    ("Keá hoaïch", "Kế hoạch"),
    ("COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc"),
    ("Tröôøng THCS Nguyeãn Traõi", "Trường THCS Nguyễn Trãi"),
])
def test_vni_to_unicode(legacy, expected):
    assert vni_to_unicode(legacy) == expected


# --- detection ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected, encoding", [
    ("Tê tr×nh", "Tờ trình", "tcvn3"),
    ("B¸o c¸o", "Báo cáo", "tcvn3"),
    ("Biªn b¶n", "Biên bản", "tcvn3"),
    ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "Cộng hoà xã hội chủ nghĩa Việt Nam", "tcvn3"),
    ("Tê TR×NH", "TỜ TRÌNH", "tcvn3"),                       # .VnTimeH typed in capitals
    ("CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "tcvn3"),
    ("Tôø trình", "Tờ trình", "vni"),
    ("Baùo caùo", "Báo cáo", "vni"),
    ("Bieân baûn", "Biên bản", "vni"),
    ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc", "vni"),
])
def test_fix_legacy_detects_and_converts(text, expected, encoding):
    assert fix_legacy(text) == (expected, encoding)


@pytest.mark.parametrize("text", [
    "Tờ trình đề nghị công nhận",
    "Hòa bình, cá, mê, Tê",                 # Unicode words that TCVN3 would also map to words
    "Báo cáo kết quả xây dựng đơn vị điển hình",
    "Hello world, café résumé naïve",
    "Số: 15/TTr-THCSNH",
    "© 2023 — “quoted” ½",
    "",
])
def test_fix_legacy_leaves_unicode_and_english_alone(text):
    assert fix_legacy(text) == (nfc(text), None)


def test_fix_legacy_nfd_input_comes_back_nfc():
    text = unicodedata.normalize("NFD", "Tờ trình đề nghị")
    assert fix_legacy(text) == ("Tờ trình đề nghị", None)


def test_fix_legacy_mixed_text_converts_only_legacy_lines():
    text = "Tờ trình đề nghị\nB¸o c¸o kÕt qu¶ x©y dùng\nSè: 15/BC-THCS"
    assert fix_legacy(text) == ("Tờ trình đề nghị\nBáo cáo kết quả xây dựng\nSố: 15/BC-THCS", "tcvn3")


def test_detect_legacy_needs_evidence():
    assert detect_legacy("Tê") is None            # a valid word either way: no evidence
    assert detect_legacy("plain ASCII text") is None


@pytest.mark.parametrize("word, valid", [
    ("trường", True), ("người", True), ("nguyễn", True), ("quyết", True), ("khuya", True),
    ("thuở", True), ("xoong", True), ("gì", True), ("giữa", True), ("Việt", True), ("HẠNH", True),
    ("tr×nh", False), ("B¸o", False), ("hello", False), ("aùo", False), ("cảc", False), ("bcd", False),
])
def test_is_syllable(word, valid):
    assert is_syllable(word) is valid


@pytest.mark.parametrize("font, encoding, capitals", [
    (".VnTime", "tcvn3", False),
    (".VnTimeH", "tcvn3", True),
    (".VnArial", "tcvn3", False),
    (".VnArial NarrowH", "tcvn3", True),
    ("ABCDEF+.VnTime", "tcvn3", False),     # PDF subset prefix
    ("VNI-Times", "vni", False),
    ("VNI-Helve", "vni", False),
    ("Times New Roman", None, False),
    (None, None, False),
])
def test_font_encoding(font, encoding, capitals):
    assert font_encoding(font) == encoding
    assert font_capitals(font) is capitals


# --- PDF repairs ----------------------------------------------------------------

@pytest.mark.parametrize("line, joined", [
    ("T Ờ  T R Ì N H", "TỜ TRÌNH"),
    ("B I Ê N   B Ả N", "BIÊN BẢN"),
    ("K Ế  H O Ạ C H", "KẾ HOẠCH"),
    ("B A\u0301 O  C A\u0301 O", "BÁO CÁO"),   # PDF text with combining marks
    ("T Ờ T R Ì N H", "TỜTRÌNH"),          # no word gap known: one word, still fold-matches
    ("a b c", "a b c"),                      # running text is not a spaced-out title
    ("Số: 15/TTr  ngày", "Số: 15/TTr  ngày"),
    ("Tờ trình", "Tờ trình"),
])
def test_join_letter_spaced(line, joined):
    assert join_letter_spaced(line) == joined


def test_repair_marks_reattaches_detached_tone_marks():
    assert repair_marks("Tơ \u0300 trình") == "Tờ trình"
    assert repair_marks("Tr\u01b0\u01a1\u02cbng") == "Trường"   # spacing grave after ơ
    assert repair_marks("a ` b") == "a ` b"                       # a lone backquote stays
