"""Bytes to text for fetched documents: BOM, then declared charsets, then detection.

A declared charset is used only if the bytes decode cleanly with it, because servers and pages
often declare UTF-8 while serving EUC-KR (or the reverse). Legacy names are widened the way
browsers widen them: EUC-KR is read as CP949, Latin-1 as windows-1252, GB2312 as GB18030.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

__all__ = ["charset_from_content_type", "decode_document", "looks_binary", "normalize_charset"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
         (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
# Python codec name -> the superset browsers actually decode with.
_WIDER = {
    "euc_kr": "cp949", "latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "iso8859_9": "cp1254",
    "tis_620": "cp874", "iso8859_11": "cp874", "big5": "big5hkscs",
}
_ALIASES = {"windows-949": "cp949", "x-windows-949": "cp949", "ks_c_5601": "cp949",
            "x-sjis": "cp932", "unicode": "utf-8", "x-gbk": "gb18030"}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]{0,400}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_PRESCAN_BYTES = 16 * 1024
_DETECT_BYTES = 64 * 1024
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"RIFF",
          b"\x00\x00\x00", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ")


def normalize_charset(name: str | None) -> str | None:
    """The Python codec to decode ``name`` with, or None when it is unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        codec = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    if codec in ("utf_16", "utf_32"):  # without a BOM such a declaration is usually wrong
        return None
    return _WIDER.get(codec, codecs.lookup(codec).name)


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return normalize_charset(match.group(1)) if match else None


def _bom(body: bytes) -> str | None:
    return next((codec for bom, codec in _BOMS if body.startswith(bom)), None)


def looks_binary(body: bytes) -> bool:
    """True for bytes that are not a text document: known file signatures or NUL bytes."""
    head = body[:4096]
    if _bom(head) in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        return False
    return head.lstrip().startswith(_MAGIC) or b"\x00" in head


def _strict(body: bytes, codec: str, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(body, final)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(body: bytes, complete: bool) -> str | None:
    sample = body[:_DETECT_BYTES]
    if len(body) > _DETECT_BYTES or not complete:
        # End the sample on a markup byte: a character cut in two would rule its encoding out.
        cut = max(sample.rfind(b"<"), sample.rfind(b"\n"))
        sample = sample[:cut] if cut > 0 else sample
    best = from_bytes(sample).best()
    return normalize_charset(best.encoding) if best is not None else None


def decode_document(body: bytes, content_type: str | None = None, *,
                    complete: bool = True) -> tuple[str, str]:
    """Decode a page; answer ``(text, codec)``. ``complete=False`` tolerates a cut last character."""
    bom = _bom(body)
    if bom:
        text = codecs.getincrementaldecoder(bom)("replace").decode(body, complete)
        return text.removeprefix("\ufeff"), bom
    meta = _META_CHARSET.search(body[:_PRESCAN_BYTES])
    declared = [charset_from_content_type(content_type),
                normalize_charset(meta.group(1).decode("ascii", "replace")) if meta else None]
    candidates = [c for c in declared if c] + ["utf-8"]
    for codec in dict.fromkeys(candidates):
        text = _strict(body, codec, complete)
        if text is not None:
            return text, codec
    fallback = _detect(body, complete) or next((c for c in declared if c), "cp1252")
    return codecs.getincrementaldecoder(fallback)("replace").decode(body, complete), fallback
