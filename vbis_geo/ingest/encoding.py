"""Text encodings of Shapefile attributes: which one a DBF uses, and its text as NFC Unicode.

Provinces send DBF text in UTF-8, Windows-1258 (``cp1258``, whose tones are combining marks) or
one of the legacy 8-bit Vietnamese encodings of the font era: TCVN3 (ABC, fonts ``.VnTime``) and
VNI (VNI-Windows, fonts ``VNI-Times``, two bytes for most accented letters). The ``.cpg`` file,
when there is one, often says ``1252`` or nothing for legacy data, so the bytes decide:
:func:`detect_encoding` reads a sample of raw text values, :func:`decode` turns bytes into NFC
text, :func:`declared_encoding` normalises what a ``.cpg`` says.

>>> decode(b"Ninh B\\xd7nh", "tcvn3")
'Ninh Bình'
>>> decode(b"Vie\\xe4t Nam", "vni")
'Việt Nam'
>>> samples = [b"Th\\xf5a Thi\\xaan Hu\\xd5", b"\\xa7\\xbek L\\xbek"]
>>> guess = detect_encoding(samples, declared="1252")
>>> guess.name, guess.legacy, guess.declared, guess.conflict
('tcvn3', True, 'cp1252', True)

Encoding names used here: ``utf-8``, ``cp1258``, ``tcvn3``, ``vni``, ``ascii``, ``latin-1``,
``cp1252`` and, for other ``.cpg`` code pages, Python's codec name (``cp1251``...);
:func:`detect_encoding` answers ``unknown`` when no candidate reads the bytes as Vietnamese.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from vbis_geo.errors import InvalidInput

#: encodings of the font era, whose text needs a conversion table
LEGACY = frozenset({"tcvn3", "vni"})
#: what detect_encoding chooses between once the bytes are not UTF-8, in order of preference
CANDIDATES = ("cp1258", "tcvn3", "vni")
_LABELS = {
    "utf-8": "UTF-8",
    "cp1258": "Windows-1258",
    "tcvn3": "TCVN3 (ABC, fonts .VnTime)",
    "vni": "VNI (VNI-Windows, fonts VNI-Times)",
}
_CONVERT_HINT = (
    "convert the .dbf to Unicode (UTF-8) with UniKey's or Vietkey's converter, "
    "or name the encoding it is in (utf-8, cp1258, tcvn3, vni)"
)

# --- Code tables ---------------------------------------------------------------------------
#
# TCVN3 = TCVN 5712:1993 VN3 ("ABC"): ASCII, 67 lower-case letters, 7 capitals without tone,
# and the no-break space, all in 0xA0-0xFF. Rows below are 0xA0-0xFF. The positions VN3 leaves
# free are filled as the fuller VN2 level fills them (tone-marked capitals, combining tones at
# 0xB0-0xB4). 0x80-0x9F are read as Windows-1252 punctuation, as UniKey does, rather than as
# VN2's capitals there: ABC files hold Word's curly quotes and dashes in that range.
# Sources, checked against each other: GNU libiconv / XFree86 lib/X11/lcUniConv/tcvn.h
# (Bruno Haible, "TCVN-5712"); UniKey's converter, src/vnconv/data.cpp (Pham Kim Long, table
# "TCVN3"); Wikipedia "VSCII" (TCVN 5712 levels VN1/VN2/VN3).
_TCVN3_A0_FF = (
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"
    "éẹềểễếệìỉỄẾỒĩíịò"
    "Ổỏõóọồổỗốộờởỡớợù"
    "ỖủũúụừửữứựỳỷỹýỵỐ"
)

# VNI-Windows: a tone-marked or hatted vowel is its base letter followed by one mark byte; đ, ơ,
# ư, the i's and ỵ have one byte of their own, and ơ/ư take a tone byte after that. Lower case
# below; a capital is the capital base letter followed by the mark byte minus 0x20 (ớ = ô ù =
# 0xF4 0xF9, Ớ = Ô Ù = 0xD4 0xD9). Other bytes are Windows-1252, as in the VNI fonts.
# Sources, checked against each other: UniKey's converter, src/vnconv/data.cpp (Pham Kim Long,
# table "VNIWIN", base byte + tone byte per letter); xvnkb's vni.h (Dao Hai Lam); the
# vietnamese-conversion package's src/charsets.ts (duydev).
_VNI_LOWER: dict[str, bytes] = {
    "á": b"a\xf9", "à": b"a\xf8", "ả": b"a\xfb", "ã": b"a\xf5", "ạ": b"a\xef",
    "â": b"a\xe2", "ấ": b"a\xe1", "ầ": b"a\xe0", "ẩ": b"a\xe5", "ẫ": b"a\xe3", "ậ": b"a\xe4",
    "ă": b"a\xea", "ắ": b"a\xe9", "ằ": b"a\xe8", "ẳ": b"a\xfa", "ẵ": b"a\xfc", "ặ": b"a\xeb",
    "đ": b"\xf1",
    "é": b"e\xf9", "è": b"e\xf8", "ẻ": b"e\xfb", "ẽ": b"e\xf5", "ẹ": b"e\xef",
    "ê": b"e\xe2", "ế": b"e\xe1", "ề": b"e\xe0", "ể": b"e\xe5", "ễ": b"e\xe3", "ệ": b"e\xe4",
    "í": b"\xed", "ì": b"\xec", "ỉ": b"\xe6", "ĩ": b"\xf3", "ị": b"\xf2",
    "ó": b"o\xf9", "ò": b"o\xf8", "ỏ": b"o\xfb", "õ": b"o\xf5", "ọ": b"o\xef",
    "ô": b"o\xe2", "ố": b"o\xe1", "ồ": b"o\xe0", "ổ": b"o\xe5", "ỗ": b"o\xe3", "ộ": b"o\xe4",
    "ơ": b"\xf4", "ớ": b"\xf4\xf9", "ờ": b"\xf4\xf8", "ở": b"\xf4\xfb", "ỡ": b"\xf4\xf5",
    "ợ": b"\xf4\xef",
    "ú": b"u\xf9", "ù": b"u\xf8", "ủ": b"u\xfb", "ũ": b"u\xf5", "ụ": b"u\xef",
    "ư": b"\xf6", "ứ": b"\xf6\xf9", "ừ": b"\xf6\xf8", "ử": b"\xf6\xfb", "ữ": b"\xf6\xf5",
    "ự": b"\xf6\xef",
    "ý": b"y\xf9", "ỳ": b"y\xf8", "ỷ": b"y\xfb", "ỹ": b"y\xf5", "ỵ": b"\xee",
}  # fmt: skip

# the combining tone marks: huyền, sắc, ngã, hỏi, nặng
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_CP1252_HIGH = tuple(
    bytes([b]).decode("cp1252", errors="replace").replace("\ufffd", chr(b))
    for b in range(0x80, 0x100)
)


@cache
def _tcvn3_translation() -> dict[int, str]:
    """Return the str.translate table from latin-1-read TCVN3 bytes to Unicode."""
    table = {0x80 + i: _CP1252_HIGH[i] for i in range(0x20)}
    table.update({0xA0 + i: char for i, char in enumerate(_TCVN3_A0_FF)})
    return table


@cache
def _tcvn3_encoding_table() -> dict[str, int]:
    """Return the byte of each non-ASCII character TCVN3 writes, as ABC files and UniKey do.

    VN3 has no tone-marked capitals: they take their lower-case letter's byte (a capital font
    showed them as capitals), so À is written as à.
    """
    table = {
        char: byte
        for byte, char in _tcvn3_translation().items()
        if byte >= 0xA0 and (char.islower() or not char.isalpha() or byte <= 0xA7)
    }
    for char, byte in list(table.items()):
        for capital in {unicodedata.normalize("NFC", char.upper())} - table.keys():
            table[capital] = byte
    return table


@cache
def _vni_encoding_table() -> dict[str, bytes]:
    """Return the VNI bytes of every Vietnamese letter outside ASCII, both cases."""
    table = dict(_VNI_LOWER)
    for letter, raw in _VNI_LOWER.items():
        table[letter.upper()] = bytes(b - 0x20 if b >= 0x80 else ord(chr(b).upper()) for b in raw)
    return table


@cache
def _vni_decoding() -> tuple[re.Pattern[str], dict[str, str]]:
    """Return a pattern for VNI letters in latin-1-read bytes and the letter of each match.

    A capital base letter takes its mark byte in either case (``AÙ`` and ``Aù`` both read Á):
    files mix them where a capital was typed with the lower-case mark.
    """
    letters: dict[str, str] = {}
    for letter, raw in _vni_encoding_table().items():
        text = raw.decode("latin-1")
        letters[text] = letter
        if len(text) == 2 and text[0].isupper():
            letters[text[0] + text[1].lower()] = letter
    alternatives = sorted(letters, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, alternatives)) + "|[\x80-\xff]")
    return pattern, letters


def _decode_tcvn3(raw: bytes) -> str:
    text = unicodedata.normalize("NFC", raw.decode("latin-1").translate(_tcvn3_translation()))
    return text.upper() if _typed_in_capitals(text) else text


def _typed_in_capitals(text: str) -> bool:
    """Return whether TCVN3 ``text`` was typed in capitals, its toned capitals in lower case.

    VN3 has no tone-marked capitals, so "CÀ MAU" is stored as "Cà MAU". The sign: a lower-case
    letter, no lower-case ASCII letter, and a word of two ASCII capitals or more. "Kẻ Gỗ" stays
    as it is (so would "KẺ GỖ": two-letter words cannot tell), "VQG Bà" becomes "VQG BÀ".
    """
    if not any(c.islower() for c in text) or any(c.isascii() and c.islower() for c in text):
        return False
    return any(sum(c.isascii() and c.isupper() for c in word) >= 2 for word in text.split())


def _decode_vni(raw: bytes) -> str:
    pattern, letters = _vni_decoding()

    def letter(match: re.Match[str]) -> str:
        text = match.group()
        return letters.get(text) or _CP1252_HIGH[ord(text) - 0x80]

    return unicodedata.normalize("NFC", pattern.sub(letter, raw.decode("latin-1")))


# --- Names -----------------------------------------------------------------------------------

_NAMED = {
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "TCVN3": "tcvn3",
    "TCVN": "tcvn3",
    "TCVN 5712": "tcvn3",
    "TCVN5712": "tcvn3",
    "VN3": "tcvn3",
    "ABC": "tcvn3",
    "VNI": "vni",
    "VNI-WINDOWS": "vni",
    "VNI WINDOWS": "vni",
    "VNI-WIN": "vni",
}
_CODE_PAGES = {65001: "utf-8", 1258: "cp1258", 1252: "cp1252", 20127: "ascii", 28591: "latin-1"}
# DBF language driver ids (header byte 29), as GDAL/pyshp report them ("LDID/87"); 87 is "the
# writer's current ANSI code page", which does not say which one, so it declares nothing.
_LDID = {1: "cp437", 2: "cp850", 3: "cp1252", 88: "cp1252", 89: "cp1252", 200: "cp1250"}


def declared_encoding(cpg_text: str) -> str | None:
    """Return the encoding a ``.cpg`` file declares, by this module's names; None if it says none.

    Understands code page numbers (``65001``, ``1258``, ``ANSI 1258``, ``CP1258``,
    ``windows-1258``), ISO names (``88591``, ``ISO-8859-1``), the DBF language driver ids GDAL
    reports (``LDID/87``) and the legacy names (``TCVN3``, ``ABC``, ``VNI``). An empty file, the
    unspecific ``ANSI``/``OEM``/``LDID/87`` and anything not an encoding give None.

    >>> [declared_encoding(t) for t in ("UTF-8", "65001", "1258", "ANSI 1258", "windows-1258")]
    ['utf-8', 'utf-8', 'cp1258', 'cp1258', 'cp1258']
    >>> declared_encoding("88591"), declared_encoding("LDID/3"), declared_encoding("LDID/87")
    ('latin-1', 'cp1252', None)
    >>> [declared_encoding(t) for t in ("VNI-Windows", "\\ufeffTCVN3\\r\\n", " ", "OEM")]
    ['vni', 'tcvn3', None, None]
    """
    lines = cpg_text.replace("\ufeff", "").strip().splitlines()
    if not lines:
        return None
    key = re.sub(r"[\s_]+", " ", lines[0].strip()).upper()
    if key in _NAMED:
        return _NAMED[key]
    ldid = re.fullmatch(r"LDID ?/ ?(\d+)", key)
    if ldid:
        return _LDID.get(int(ldid.group(1)))
    number = re.fullmatch(r"(?:ANSI|WINDOWS|WIN|CP|MS|IBM)?[ -]?(\d+)", key)
    if number:
        return _code_page(int(number.group(1)))
    return _codec_name(key)


def _code_page(number: int) -> str | None:
    if number in _CODE_PAGES:
        return _CODE_PAGES[number]
    iso = re.fullmatch(r"(?:2?8859)(\d{1,2})", str(number))
    if iso:
        return _codec_name(f"iso8859-{iso.group(1)}")
    return _codec_name(f"cp{number}")


def _codec_name(name: str) -> str | None:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # base64, rot13 and friends are codecs, not character encodings
    return "latin-1" if info.name == "iso8859-1" else info.name


def _normalised(encoding: str) -> str:
    """Return this module's name for ``encoding``; raises InvalidInput if it is none."""
    name = encoding.strip().lower()
    if name in LEGACY or name in CANDIDATES or name in ("utf-8", "ascii", "latin-1"):
        return name
    if name == "unknown":
        raise InvalidInput("the text encoding of these bytes is unknown", hint=_CONVERT_HINT)
    normal = declared_encoding(encoding)
    if normal is None:
        raise InvalidInput(
            f"unknown text encoding {encoding!r}", hint="use utf-8, cp1258, tcvn3 or vni"
        )
    return normal


# --- Decoding and encoding -------------------------------------------------------------------


def decode(raw: bytes, encoding: str) -> str:
    """Return ``raw`` read as ``encoding``, NFC-normalised (cp1258's combining tones composed).

    ``encoding`` is one of this module's names or anything :func:`declared_encoding`
    understands. TCVN3 and VNI never fail: a byte outside their letters reads as Windows-1252
    would show it; TCVN3 bytes 0x80-0x9F are read so too (UniKey does: they are Word's quotes
    and dashes in ABC files), and a TCVN3 value typed in capitals is read in capitals ("NộI"
    is "NỘI"), since VN3 writes a tone-marked capital with its lower-case letter. Raises
    :class:`~vbis_geo.errors.InvalidInput` for an unknown encoding (including ``unknown``, what
    :func:`detect_encoding` says of undecidable bytes) and for bytes not valid in the encoding.

    >>> decode("Phu\\u031bo\\u031bng".encode(), "utf-8") == "Phương"
    True
    >>> decode(b"Ph\\xfd\\xf5ng Nha - Ke\\xd2 B\\xe0ng", "windows-1258")
    'Phương Nha - Kẻ Bàng'
    >>> decode(b"V\\xfd\\xf5\\xccn qu\\xf4\\xecc gia", "cp1258")
    'Vườn quốc gia'
    >>> decode(b"Ph\\xf6\\xf4\\xf9c", "vni")
    'Phước'
    >>> decode(b"\\xa7\\xbek L\\xbek", "tcvn3")
    'Đắk Lắk'
    >>> decode(b"C\\xc3", "utf-8")
    Traceback (most recent call last):
    ...
    vbis_geo.errors.InvalidInput: bytes are not valid utf-8: byte 0xC3 at position 1
      -> convert the .dbf to Unicode (UTF-8) with UniKey's or Vietkey's converter, or name the encoding it is in (utf-8, cp1258, tcvn3, vni)
    """  # noqa: E501
    name = _normalised(encoding)
    if name == "tcvn3":
        return _decode_tcvn3(raw)
    if name == "vni":
        return _decode_vni(raw)
    try:
        text = raw.decode(name)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"bytes are not valid {name}: byte 0x{raw[exc.start]:02X} at position {exc.start}",
            hint=_CONVERT_HINT,
        ) from exc
    return unicodedata.normalize("NFC", text)


def encode(text: str, encoding: str) -> bytes:
    """Return ``text`` written in ``encoding``: the inverse of :func:`decode`, for fixtures.

    ``cp1258`` is written as Windows' Vietnamese keyboard writes it: each tone as a combining
    byte after its letter (ư, ơ, ă, â, ê, ô, đ are single bytes). TCVN3 writes a tone-marked
    capital with its lower-case letter's byte, as ABC and UniKey do (VN3 has none), so only
    all-capital values get them back from :func:`decode`. Raises
    :class:`~vbis_geo.errors.InvalidInput` for a character the encoding cannot write.

    >>> encode("Đắk Lắk", "tcvn3"), encode("HÀ NỘI", "tcvn3")
    (b'\\xa7\\xbek L\\xbek', b'H\\xb5 N\\xe9I')
    >>> decode(b'H\\xb5 N\\xe9I', "tcvn3")
    'HÀ NỘI'
    >>> encode("Phước", "vni")
    b'Ph\\xf6\\xf4\\xf9c'
    >>> encode("Huế", "cp1258")
    b'Hu\\xea\\xec'
    """
    name = _normalised(encoding)
    text = unicodedata.normalize("NFC", text)
    if name == "tcvn3":
        return _encode_each(text, name, lambda char: bytes([_tcvn3_encoding_table()[char]]))
    if name == "vni":
        return _encode_each(text, name, lambda char: _vni_encoding_table()[char])
    if name == "cp1258":
        return _encode_each(text, name, _cp1258_bytes)
    return _encode_each(text, name, lambda char: char.encode(name))


def _encode_each(text: str, name: str, one: Callable[[str], bytes]) -> bytes:
    out = bytearray()
    for position, char in enumerate(text):
        if char.isascii():
            out += char.encode("ascii")
            continue
        try:
            out += one(char)
        except (KeyError, UnicodeEncodeError) as exc:
            raise InvalidInput(
                f"{char!r} (U+{ord(char):04X}) at position {position} cannot be written in {name}"
            ) from exc
    return bytes(out)


def _cp1258_bytes(char: str) -> bytes:
    decomposed = unicodedata.normalize("NFD", char)
    tones = "".join(c for c in decomposed if c in _TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return (base + tones).encode("cp1258")


# --- Vietnamese syllables --------------------------------------------------------------------
#
# A written syllable is onset + vowel nucleus + coda with at most one tone mark. Onsets are
# lenient (clusters such as "kr", "dr" occur in Central Highlands names: Krông Pắc, M'Drắk);
# nuclei and codas are what tell a right reading from a wrong one.

_OPEN_NUCLEI = (  # no coda after these: they end in a glide
    "uôi ươi ươu iêu yêu oai oay oao uây uyu oeo uya "
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu uơ"
)
_CLOSED_NUCLEI = "uyê iê yê uô ươ oă uâ ă â"  # a coda must follow
_FREE_NUCLEI = "oa oe uê uy oo a e ê i o ô ơ u ư y"


def _alternation(words: str) -> str:
    return "|".join(sorted(words.split(), key=len, reverse=True))


_SYLLABLE = re.compile(
    r"(?P<onset>ngh|qu|gi|[bcdđfghjklmnpqrstvwxz]{1,3})?"
    rf"(?:(?P<open>{_alternation(_OPEN_NUCLEI)})"
    rf"|(?P<closed>{_alternation(_CLOSED_NUCLEI)})(?P<coda>ch|nh|ng|[cmnptk])"
    rf"|(?P<free>{_alternation(_FREE_NUCLEI)})(?P<free_coda>ch|nh|ng|[cmnptk])?)"
)
_STOPS = frozenset({"c", "ch", "k", "p", "t"})
_PALATAL_NUCLEI = frozenset({"a", "ê", "i", "y", "oa", "uê", "uy"})  # the only ones before ch/nh


def is_vietnamese_syllable(word: str) -> bool:
    """Return whether ``word`` (NFC, any case) can be a written Vietnamese syllable.

    Checks an onset, a vowel nucleus from the attested ones, a coda, one tone mark at most, only
    sắc or nặng before the stops c/ch/p/t/k, and the case (lower, Title or UPPER). Two syllables
    written as one word pass too when the second opens with a cluster of the Central Highlands
    languages (Đakrông, Chưprông).

    >>> [is_vietnamese_syllable(w) for w in ("Phước", "nguyễn", "ĐẮK", "quốc", "Đakrông")]
    [True, True, True, True, True]
    >>> [is_vietnamese_syllable(w) for w in ("Phöôùc", "quèc", "HuƠ", "Thiªn", "Forêt")]
    [False, False, False, False, False]
    """
    if not word or not (word.islower() or word.isupper() or word.istitle()):
        return False
    word = word.lower()
    if _is_syllable(word):
        return True
    return any(
        _is_cluster(word[i : i + 2]) and _is_syllable(word[:i]) and _is_syllable(word[i:])
        for i in range(2, len(word) - 2)
    )


_CONSONANTS = frozenset("bcdđfghjklmnpqrstvwxz")
_DIGRAPHS = frozenset({"ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr"})


def _is_cluster(pair: str) -> bool:
    """Return whether ``pair`` is two consonants that are not one Vietnamese onset (kr, pr...)."""
    return pair[0] in _CONSONANTS and pair[1] in _CONSONANTS and pair not in _DIGRAPHS


def _is_syllable(word: str) -> bool:
    """Return whether lower-case ``word`` is one syllable: see is_vietnamese_syllable."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    match = _SYLLABLE.fullmatch(toneless)
    if match is None:
        return False
    nucleus = match["open"] or match["closed"] or match["free"]
    coda = match["coda"] or match["free_coda"] or ""
    if match["onset"] == "qu" and nucleus[0] in "ou":
        return False
    if coda in ("ch", "nh") and nucleus not in _PALATAL_NUCLEI:
        return False
    if coda in ("c", "ng") and nucleus in ("i", "ê", "y"):
        return False
    return not (coda in _STOPS and tones and tones[0] not in ("\u0301", "\u0323"))


# --- Detection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodingGuess:
    """What the bytes of a DBF's text say about its encoding.

    ``name`` is the encoding to :func:`decode` with (``unknown`` when undecidable); ``legacy``
    is True for the font-era encodings (tcvn3, vni); ``declared`` is what the ``.cpg`` said,
    normalised (None without one); ``conflict`` is True when the bytes contradict it;
    ``evidence`` says why, in a sentence for the ingest report.
    """

    name: str
    legacy: bool
    declared: str | None
    conflict: bool
    evidence: str


# bytes that separate words in every candidate: ASCII other than letters, and the no-break space
_WORD_BREAK = re.compile(rb"[\x00-\x40\x5b-\x60\x7b-\x7f\xa0]+")
_READERS = {
    "cp1258": lambda raw: unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace")),
    "tcvn3": _decode_tcvn3,
    "vni": _decode_vni,
}


def detect_encoding(samples: Iterable[bytes], declared: str | None = None) -> EncodingGuess:
    """Return the encoding the raw text values ``samples`` are most likely in.

    Bytes that are valid UTF-8 and not all ASCII are UTF-8. Otherwise every word with a byte
    above 0x7F is read as cp1258, TCVN3 and VNI, and the reading with the most plausible
    Vietnamese syllables (:func:`is_vietnamese_syllable`) wins, provided more than half its words
    are; ties go to the declared encoding, then to cp1258, TCVN3, VNI in that order. Bytes no
    candidate reads give ``unknown``; all-ASCII samples give ``ascii`` (every encoding here reads
    them alike). ``declared`` is the ``.cpg`` text or an encoding name (see
    :func:`declared_encoding`). Never raises for any bytes.

    >>> detect_encoding([b"V\\xf6\\xf4\\xf8n quo\\xe1c gia Cu\\xf9c Ph\\xf6\\xf4ng"]).name
    'vni'
    >>> guess = detect_encoding(["Cúc Phương".encode()], declared="1258")
    >>> guess.name, guess.conflict
    ('utf-8', True)
    >>> detect_encoding([b"Cat Tien", b"Ba Be"], declared="UTF-8")
    EncodingGuess(name='ascii', legacy=False, declared='utf-8', conflict=False, evidence='all 2 samples are 7-bit ASCII, which every supported encoding reads alike')
    """  # noqa: E501
    declared_name = declared_encoding(declared) if declared is not None else None
    raws = [bytes(sample) for sample in samples]
    high = Counter(b for raw in raws for b in raw if b >= 0x80)
    if not high:
        evidence = (
            f"all {len(raws)} samples are 7-bit ASCII, which every supported encoding reads alike"
            if raws
            else "no text to examine"
        )
        # every encoding a .cpg names reads ASCII as ASCII: these bytes contradict none
        return _guess("ascii", declared_name, evidence, conflict=False)
    utf8_error = _utf8_error(raws)
    if utf8_error is None:
        with_text = sum(1 for raw in raws if any(b >= 0x80 for b in raw))
        evidence = f"valid UTF-8, with non-ASCII text in {with_text} of {len(raws)} samples"
        return _guess("utf-8", declared_name, evidence, conflict=declared_name != "utf-8")
    words = [w for raw in raws for w in _WORD_BREAK.split(raw) if any(b >= 0x80 for b in w)]
    scores = {
        name: sum(map(is_vietnamese_syllable, map(read, words))) for name, read in _READERS.items()
    }
    ranked = sorted(
        CANDIDATES, key=lambda n: (scores[n], n == declared_name, -CANDIDATES.index(n))
    )[::-1]
    best = ranked[0]
    typical = " ".join(f"0x{b:02X}" for b, _ in high.most_common(4))
    others = ", ".join(f"{n} {scores[n]}" for n in ranked[1:])
    tally = f"{scores[best]} of {len(words)} words read as Vietnamese syllables ({others})"
    if 2 * scores[best] <= len(words):
        evidence = f"not UTF-8 ({utf8_error}) and no Vietnamese encoding fits: best {best}, {tally}"
        conflict = declared_name in ("utf-8", "ascii")
        return _guess("unknown", declared_name, evidence, conflict=conflict)
    evidence = f"bytes {typical} typical of {_LABELS[best]}: {tally}"
    ties = [n for n in ranked[1:] if scores[n] == scores[best]]
    if ties:
        evidence += f"; {', '.join(ties)} reads them as well"
    return _guess(best, declared_name, evidence, conflict=declared_name != best)


def _guess(name: str, declared: str | None, evidence: str, *, conflict: bool) -> EncodingGuess:
    conflict = conflict and declared is not None
    if conflict:
        evidence += f"; the .cpg declares {declared}"
    return EncodingGuess(name, name in LEGACY, declared, conflict, evidence)


def _utf8_error(raws: list[bytes]) -> str | None:
    """Return where the first sample that is not UTF-8 fails, or None if all are UTF-8."""
    for index, raw in enumerate(raws):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"sample {index + 1}: byte 0x{raw[exc.start]:02X} at position {exc.start}"
    return None
