import doctest
import random
import unicodedata

import pytest

import vbis_geo.ingest.encoding
from vbis_geo.errors import InvalidInput
from vbis_geo.ingest.encoding import (
    EncodingGuess,
    declared_encoding,
    decode,
    detect_encoding,
    encode,
    is_vietnamese_syllable,
)

NAMES = [
    "Vườn quốc gia Cúc Phương",
    "Khu bảo tồn thiên nhiên Pù Mát",
    "Thừa Thiên Huế",
    "Đắk Lắk",
    "Bà Rịa - Vũng Tàu",
    "Vườn quốc gia Phong Nha - Kẻ Bàng",
    "Khu dự trữ sinh quyển Cần Giờ",
    "Sếu đầu đỏ",
    "Voọc mông trắng",
    "Thành phố Hồ Chí Minh",
]
ENCODINGS = ["utf-8", "cp1258", "tcvn3", "vni"]


def cp1258_windows(text: str) -> bytes:
    """Windows-1258 as a Vietnamese keyboard types it, with Python's codec: tones decomposed."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        *letter, tone = unicodedata.normalize("NFD", char)
        if tone in "\u0300\u0301\u0303\u0309\u0323":  # split the tone off; keep ư, ơ, â... whole
            out += (unicodedata.normalize("NFC", "".join(letter)) + tone).encode("cp1258")
        else:
            out += char.encode("cp1258")
    return out


def cp1258_precomposed(text: str) -> bytes:
    """Windows-1258 with the precomposed letters it has (á, à, é...), the other tones decomposed."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            out += cp1258_windows(char)
    return out


def test_doctests():
    result = doctest.testmod(vbis_geo.ingest.encoding)
    assert result.attempted > 0
    assert result.failed == 0


# --- code tables, against public sources independent of the module's own tables ------------

# TCVN3 glyphs as Windows shows ABC bytes, and the letters they are (table of a C# converter,
# backupvietsoft/HRM ConvertVNI; same as libiconv's tcvn.h and UniKey's vnconv)
TCVN3_GLYPHS = (
    "µ¸¶·¹ ¨»¾¼½Æ ©ÇÊÈÉË ®ÌÐÎÏÑ ªÒÕÓÔÖ ×ÝØÜÞ ßãáâä «åèæçé ¬êíëìî ïóñòô \xadõøö÷ù úýûüþ ¡¢§£¤¥¦"
)
TCVN3_LETTERS = (
    "àáảãạ ăằắẳẵặ âầấẩẫậ đèéẻẽẹ êềếểễệ ìíỉĩị òóỏõọ ôồốổỗộ ơờớởỡợ ùúủũụ ưừứửữự ỳýỷỹỵ ĂÂĐÊÔƠƯ"
)


def test_tcvn3_table_matches_published_table():
    assert decode(TCVN3_GLYPHS.encode("latin-1"), "tcvn3") == TCVN3_LETTERS
    assert encode(TCVN3_LETTERS, "tcvn3") == TCVN3_GLYPHS.encode("latin-1")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        # examples published with open-source converters (duydev/vietnamese-conversion, others)
        (b"Ninh B\xd7nh", "Ninh Bình"),
        (b"B\xb6o Th\xbeng", "Bảo Thắng"),
        (b"M\xad\xeang Kh\xad\xacng", "Mường Khương"),
        (b"Xin ch\xb5o c\xb8c b\xb9n", "Xin chào các bạn"),
        (b"T\xabi \xaei h\xe4c", "Tôi đi học"),
    ],
)
def test_decode_tcvn3_published_examples(raw, text):
    assert decode(raw, "tcvn3") == text


# VNI mark bytes (lower-case forms) as UniKey's vnconv table "VNIWIN" has them
VNI_TONE = {"": "", "\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
VNI_HAT = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
VNI_OWN_BYTE = {"đ": "ñ", "ơ": "ô", "ư": "ö", "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò"}
VNI_OWN_BYTE["ỵ"] = "î"


def vni_by_rule(letter: str) -> str:
    """Return the VNI glyphs of a lower-case letter, composed from UniKey's mark bytes."""
    if letter in VNI_OWN_BYTE:
        return VNI_OWN_BYTE[letter]
    base, *marks = unicodedata.normalize("NFD", letter)
    tone = next((m for m in marks if m in VNI_TONE), "")
    if "\u0302" in marks:
        return base + VNI_HAT[tone]
    if "\u0306" in marks:
        return base + VNI_BREVE[tone]
    if "\u031b" in marks:
        return VNI_OWN_BYTE["ơ" if base == "o" else "ư"] + VNI_TONE[tone]
    return base + VNI_TONE[tone]


VIETNAMESE_LOWER = sorted(
    {c for c in TCVN3_LETTERS if c.islower()} | {"ỵ", "ý", "ỳ", "ỷ", "ỹ", "í", "ì", "ỉ", "ĩ", "ị"}
)


@pytest.mark.parametrize("letter", VIETNAMESE_LOWER)
def test_vni_table_matches_unikey_rule(letter):
    glyphs = vni_by_rule(letter)
    capital = "".join(g.upper() if g in "aeouy" else chr(ord(g) - 0x20) for g in glyphs)
    assert encode(letter, "vni") == glyphs.encode("latin-1")
    assert decode(glyphs.encode("latin-1"), "vni") == letter
    assert decode(capital.encode("latin-1"), "vni") == letter.upper()


@pytest.mark.parametrize(
    ("glyphs", "text"),
    [
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),
        ("Toâi ñi hoïc", "Tôi đi học"),
        ("Phöôùc", "Phước"),
        ("HAØ NOÄI", "HÀ NỘI"),
        ("Aù Chaâu", "Á Châu"),  # a capital typed with the lower-case mark
    ],
)
def test_decode_vni_examples(glyphs, text):
    assert decode(glyphs.encode("latin-1"), "vni") == text


# --- round trips and detection --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", NAMES)
def test_round_trip_and_detect_each_name(name, encoding):
    raw = encode(name, encoding)
    assert decode(raw, encoding) == name
    guess = detect_encoding([raw])
    assert guess.name == encoding
    assert guess.legacy is (encoding in ("tcvn3", "vni"))
    assert guess.conflict is False


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_detect_a_column(encoding):
    guess = detect_encoding(encode(name, encoding) for name in NAMES)
    assert guess.name == encoding
    assert guess.declared is None
    assert guess.evidence


@pytest.mark.parametrize("writer", [cp1258_windows, cp1258_precomposed])
def test_cp1258_from_python_codec_detected_and_nfc(writer):
    raws = [writer(name) for name in NAMES]
    assert detect_encoding(raws).name == "cp1258"
    for raw, name in zip(raws, NAMES, strict=True):
        text = decode(raw, "cp1258")
        assert text == name
        assert unicodedata.is_normalized("NFC", text)
        assert not any(unicodedata.category(c) == "Mn" for c in text)


def test_python_cp1258_needs_decomposed_tones():
    # why decode must normalise: the codec itself returns base letters plus combining tones
    raw = cp1258_windows("Thừa Thiên Huế")
    assert raw.decode("cp1258") != "Thừa Thiên Huế"
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == "Thừa Thiên Huế"
    assert decode(raw, "windows-1258") == "Thừa Thiên Huế"


def test_legacy_evidence_names_the_bytes_and_the_encoding():
    guess = detect_encoding([encode(name, "tcvn3") for name in NAMES])
    assert guess.legacy
    assert "TCVN3 (ABC" in guess.evidence
    assert "0x" in guess.evidence
    assert "words read as Vietnamese syllables" in guess.evidence
    vni = detect_encoding([encode(name, "vni") for name in NAMES])
    assert "VNI" in vni.evidence


def test_tcvn3_capitals_typed_without_capital_codes():
    # VN3 has Ê but no Ừ, Ế: an ABC file typed in capitals holds "THõA THI£N HUÕ"
    raw = encode("THỪA THIÊN HUẾ", "tcvn3")
    assert raw == b"TH\xf5A THI\xa3N HU\xd5"
    assert decode(raw, "tcvn3") == "THỪA THIÊN HUẾ"
    assert detect_encoding([raw, encode("BÀ RỊA - VŨNG TÀU", "tcvn3")]).name == "tcvn3"
    # title case is left alone, even where every ASCII letter is a capital
    assert decode(encode("Kẻ Gỗ", "tcvn3"), "tcvn3") == "Kẻ Gỗ"


def test_tcvn3_reads_word_punctuation_as_windows_1252():
    assert decode(b"VQG \x93C\xf3c Ph\xad\xacng\x94", "tcvn3") == "VQG “Cúc Phương”"


# --- declared versus actual ------------------------------------------------------------------


def test_declared_1252_but_bytes_are_tcvn3():
    guess = detect_encoding([encode(name, "tcvn3") for name in NAMES], declared="1252")
    assert guess.name == "tcvn3"
    assert guess.declared == "cp1252"
    assert guess.conflict is True
    assert "the .cpg declares cp1252" in guess.evidence


def test_declared_cp1258_but_bytes_are_utf8():
    guess = detect_encoding([name.encode() for name in NAMES], declared="ANSI 1258")
    assert (guess.name, guess.declared, guess.conflict) == ("utf-8", "cp1258", True)


def test_declared_utf8_but_bytes_are_vni():
    guess = detect_encoding([encode(name, "vni") for name in NAMES], declared="UTF-8")
    assert (guess.name, guess.declared, guess.conflict) == ("vni", "utf-8", True)


@pytest.mark.parametrize(
    ("encoding", "cpg"), [("utf-8", "65001"), ("cp1258", "1258"), ("cp1258", "CP1258")]
)
def test_declared_and_actual_agree(encoding, cpg):
    guess = detect_encoding([encode(name, encoding) for name in NAMES], declared=cpg)
    assert (guess.name, guess.conflict) == (encoding, False)


def test_declared_breaks_a_tie():
    # one short TCVN3 value that reads as Vietnamese in cp1258 too ("Tiền" / "Tỉn")
    raw = encode("Tiền Giang", "tcvn3")
    assert detect_encoding([raw]).name == "cp1258"
    guess = detect_encoding([raw], declared="TCVN3")
    assert (guess.name, guess.conflict) == ("tcvn3", False)
    assert "cp1258 reads them as well" in guess.evidence


# --- ASCII and garbage -----------------------------------------------------------------------


@pytest.mark.parametrize("declared", [None, "UTF-8", "1258", "1252", "TCVN3"])
def test_ascii_only_samples(declared):
    guess = detect_encoding([b"Cat Tien", b"Ba Be   ", b"", b"VQG-01"], declared=declared)
    assert guess.name == "ascii"
    assert guess.legacy is False
    assert guess.conflict is False
    assert "ASCII" in guess.evidence


def test_no_samples():
    assert detect_encoding([]) == EncodingGuess("ascii", False, None, False, "no text to examine")


def test_random_bytes_are_unknown():
    rng = random.Random(7)
    samples = [bytes(rng.randrange(256) for _ in range(30)) for _ in range(20)]
    guess = detect_encoding(samples, declared="UTF-8")
    assert guess.name == "unknown"
    assert guess.legacy is False
    assert guess.conflict is True  # the bytes are not UTF-8, whatever they are
    assert "no Vietnamese encoding fits" in guess.evidence
    with pytest.raises(InvalidInput, match="unknown") as excinfo:
        decode(samples[0], guess.name)
    assert "UniKey" in str(excinfo.value)


def test_western_text_is_not_taken_for_vietnamese():
    samples = ["Forêt de Fontainebleau".encode("latin-1"), "Château d'Eau".encode("latin-1")]
    guess = detect_encoding(samples, declared="1252")
    assert (guess.name, guess.conflict) == ("unknown", False)


# --- decode and encode errors ----------------------------------------------------------------


def test_decode_invalid_utf8_raises():
    with pytest.raises(InvalidInput, match="not valid utf-8: byte 0xB8 at position 1"):
        decode(b"B\xb8t X\xb8t", "utf-8")


def test_decode_unknown_encoding_raises():
    with pytest.raises(InvalidInput, match="unknown text encoding 'klingon'"):
        decode(b"abc", "klingon")


def test_encode_unwritable_character_raises():
    with pytest.raises(InvalidInput, match="cannot be written in tcvn3"):
        encode("Giá 5 €", "tcvn3")


# --- .cpg contents ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpg", "name"),
    [
        ("UTF-8", "utf-8"),
        ("utf8\n", "utf-8"),
        ("65001", "utf-8"),
        ("1258", "cp1258"),
        ("CP1258", "cp1258"),
        ("ANSI 1258", "cp1258"),
        ("windows-1258", "cp1258"),
        ("1252", "cp1252"),
        ("ISO-8859-1", "latin-1"),
        ("88591", "latin-1"),
        ("28591", "latin-1"),
        ("1251", "cp1251"),
        ("LDID/3", "cp1252"),
        ("LDID/87", None),
        ("TCVN3", "tcvn3"),
        ("ABC", "tcvn3"),
        ("VNI-Windows", "vni"),
        ("\ufeffUTF-8\r\n", "utf-8"),
        ("", None),
        ("OEM", None),
        ("base64", None),
    ],
)
def test_declared_encoding(cpg, name):
    assert declared_encoding(cpg) == name


# --- syllables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "Vườn",
        "quốc",
        "gia",
        "Huế",
        "Đắk",
        "Rịa",
        "khuyến",
        "người",
        "Khuỷu",
        "Voọc",
        "THỪA",
        "Đakrông",
    ],
)
def test_vietnamese_syllables(word):
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize(
    "word",
    ["Vöôøn", "quoác", "Thơa", "HuƠ", "tiê", "quèc", "Cỳc", "Mỏt", "Forêt", "Ph\xad\xacng"],
)
def test_not_vietnamese_syllables(word):
    assert not is_vietnamese_syllable(word)
