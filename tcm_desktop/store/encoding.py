"""Decoding text files from clinics: UTF-8 (with or without BOM), else GB18030.

GB18030 is a superset of GBK and GB2312, the encodings Chinese Windows
programs write by default. Decoding is strict: a file that is in none of
these is refused rather than turned into mojibake.
"""

from __future__ import annotations

import codecs

from tcm_desktop.store.errors import DecodeError

# Tried in order after the byte-order marks; each strictly.
_FALLBACKS = ("utf-8", "gb18030")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes, where: str) -> tuple[str, str]:
    """(text, encoding name) of ``data``: ``utf-8-sig`` (BOM removed), ``utf-8`` or ``gb18030``.

    A UTF-16 byte-order mark (Windows Notepad's "Unicode") is honoured too.
    Raises :class:`DecodeError` naming ``where`` if nothing decodes.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name).removeprefix("\ufeff"), name
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{where}: starts like {name} but is not valid {name} ({exc.reason})") from exc
    for name in _FALLBACKS:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise DecodeError(f"{where}: cannot read the text; it is not UTF-8 or GB18030/GBK (save it as UTF-8)")
