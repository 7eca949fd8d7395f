"""De-identification of clinical text: names, ID-card numbers, phone numbers and addresses masked.

Pure Python rules (regular expressions plus a few checks), no model:

* ``NAME``: the two to four characters after 姓名/联系人/家属/监护人; a surname
  plus one or two characters after 患者/病人/患儿 (or anywhere) when a sex or
  an age follows (``患者张三，男，45岁``); ``X某``/``X某某``; a surname with
  先生/女士/老师/阿姨...; the textbook placeholders 张三, 李四, 王五, 赵六.
  A clinical word after 患者 (``患者高热，伴咳嗽``) is left alone: without a
  marker, a sex or an age nothing is taken for a name.
* ``ID_NUMBER``: 18-character resident ID numbers with a real birth date or a
  valid ISO 7064 MOD 11-2 check character (a mistyped number still
  identifies a person), and the old 15-digit form.
* ``PHONE``: mobile numbers ``1[3-9]`` + 9 digits (``+86``, spaces or dashes
  allowed), landlines with an area code (``010-12345678``, ``(0571)8888888``),
  and any number after 电话/手机/联系方式/Tel.
* ``ADDRESS``: what follows 住址/地址/家住/现住/现居/户籍地 up to the next comma or space;
  runs that start with a province or a city (``北京市``, ``杭州市西湖区``) and go
  on with address units (区, 县, 镇, 路, 号, 单元, 室, ...); a road with a
  house number (``幸福路12号``).

Masking keeps the length: every masked character becomes the type's mask
character (:data:`MASKS`), so span offsets stay valid and a span's text is
re-read from the masked text. The rules are heuristics: they catch the usual
ways these details are written in Chinese clinical notes, not every way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from tcm_desktop.domain import Record

NAME, ID_NUMBER, PHONE, ADDRESS = "NAME", "ID_NUMBER", "PHONE", "ADDRESS"
MASKS = {NAME: "某", ID_NUMBER: "*", PHONE: "*", ADDRESS: "＊"}
# Where two findings overlap, the character takes the mask of the earlier kind here.
_PRIORITY = (ID_NUMBER, PHONE, NAME, ADDRESS)

_CJK = "\u4e00-\u9fff"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康"
    "施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗"
    "谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND = "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|长孙|令狐|夏侯|端木|西门|南宫|独孤|宇文|轩辕"
_SURNAME = f"(?:{_COMPOUND}|[{_SURNAMES}])"
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州"
    "|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_UNIT = (
    "省|自治区|自治州|市|区|县|旗|镇|乡|街道|村|路|街|大道|巷|弄|胡同|里|号|栋|幢|单元|室|楼|层"
    "|小区|花园|公寓|大厦|社区|组"
)
_NUMBER_UNIT = r"\d+(?:-\d+)*(?:号|栋|幢|单元|室|楼|层|弄|巷|组)"
_MORE_UNITS = rf"(?:[{_CJK}]{{1,8}}?(?:{_UNIT})|{_NUMBER_UNIT})"
# Words before an address that a pattern without a marker may have swallowed.
_LEADING_WORDS = "现居住在于自到去来往赴返回及和与的"
_PATIENT_MARKERS = "患者|病人|病患|患儿|病员|就诊者"
_NAME_MARKERS = "姓名|名字|联系人|家属|监护人"
_PHONE_MARKERS = "联系电话|电话号码|电话|手机号码|手机号|手机|联系方式|座机|[Tt]el|TEL"
_SEX_OR_AGE = r"[，,、\s（(]*(?:男|女|\d{1,3}岁)"


@dataclass(frozen=True)
class Finding:
    """``text[start:end]`` is a ``kind`` (NAME, ID_NUMBER, PHONE or ADDRESS)."""

    start: int
    end: int
    kind: str


_RULES: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (kind, re.compile(pattern), trim)
    for kind, pattern, trim in (
        # names
        (
            NAME,
            rf"(?:{_NAME_MARKERS})[:：\s]*(?P<pii>[{_CJK}·]{{2,4}}?)(?=[\s，,。；;、（(:：]|男|女|\d|$)",
            False,
        ),
        (NAME, rf"(?:{_PATIENT_MARKERS})[:：\s]*(?P<pii>{_SURNAME}[{_CJK}]{{1,2}}?)(?={_SEX_OR_AGE})", False),
        (NAME, rf"(?P<pii>{_SURNAME}[{_CJK}]{{1,2}}?)(?=[，,、\s（(]*(?:男|女)[，,、\s]*\d{{1,3}}岁)", False),
        (NAME, rf"(?P<pii>{_SURNAME}某某?)(?!医院|院|处|地|些|种|日|时|天|年|月|次|个|位|科|单位)", False),
        (NAME, rf"(?P<pii>{_SURNAME}(?:先生|女士|小姐|老师|师傅|大爷|大妈|阿姨|奶奶|爷爷))", False),
        (NAME, r"(?P<pii>张三|李四|王五|赵六)", False),
        # ID-card numbers (checked further in _id_number_ok)
        (ID_NUMBER, r"(?<![0-9A-Za-z])(?P<pii>\d{17}[\dXx])(?![0-9A-Za-z])", False),
        (ID_NUMBER, r"(?<![0-9A-Za-z])(?P<pii>[1-9]\d{14})(?![0-9A-Za-z])", False),
        # phone numbers
        (PHONE, r"(?<![\d])(?P<pii>(?:(?:\+|00)86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2})(?!\d)", False),
        (PHONE, r"(?<![\d])(?P<pii>(?:[(（]0\d{2,3}[)）]|0\d{2,3})[-\s]?[2-9]\d{6,7}(?:-\d{1,4})?)(?!\d)", False),
        (
            PHONE,
            rf"(?:{_PHONE_MARKERS})[:：.\s]*(?P<pii>\+?\d[\d\-\s]{{5,18}}\d)",
            False,
        ),
        # addresses
        (
            ADDRESS,
            r"(?:家庭住址|现住址|住址|通讯地址|地址|户籍地|现居住地|居住地|居住于|现居|家住|现住|住在)[:：\s]*"
            r"(?P<pii>[^，,。；;\s]{2,60}?)(?=[，,。；;\s]|电话|手机|联系|患者|姓名|性别|年龄|$)",
            False,
        ),
        (
            ADDRESS,
            rf"(?P<pii>(?:{_PROVINCES})(?:省|市|(?:壮族|回族|维吾尔)?自治区|特别行政区){_MORE_UNITS}*)",
            False,
        ),
        (ADDRESS, rf"(?P<pii>[{_CJK}]{{2,3}}市{_MORE_UNITS}+)", True),
        (ADDRESS, rf"(?P<pii>[{_CJK}]{{1,6}}?(?:路|街|大道|巷|弄|胡同)\d+(?:-\d+)*号{_MORE_UNITS}*)", True),
    )
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """Whether the last character of an 18-character ID number is its ISO 7064 MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= date.today().year


def _id_number_ok(number: str) -> bool:
    if len(number) == 15:  # before 1999: area, YYMMDD, sequence
        return number[0] != "0" and _real_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    birth = _real_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return (number[0] != "0" and birth) or id_checksum_ok(number)


def _trimmed(text: str, start: int, end: int) -> int:
    """``start`` moved past words such as 住/在/于 that a pattern without a marker took in."""
    while end - start > 4 and text[start] in _LEADING_WORDS:
        start += 1
    return start


def _matches(text: str) -> Iterator[Finding]:
    for kind, pattern, trim in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span("pii")
            if kind == ID_NUMBER and not _id_number_ok(match.group("pii")):
                continue
            if trim:
                start = _trimmed(text, start, end)
            if start < end:
                yield Finding(start, end, kind)


def find_pii(text: str) -> list[Finding]:
    """The identifying parts of ``text``: non-overlapping, in order (overlaps merged, see _PRIORITY)."""
    kinds: list[str | None] = [None] * len(text)
    found = sorted(_matches(text), key=lambda f: _PRIORITY.index(f.kind), reverse=True)
    for finding in found:  # lowest priority first, so higher ones overwrite
        for i in range(finding.start, finding.end):
            kinds[i] = finding.kind
    merged: list[Finding] = []
    for i, kind in enumerate(kinds):
        if kind is None:
            continue
        if merged and merged[-1].end == i and merged[-1].kind == kind:
            merged[-1] = Finding(merged[-1].start, i + 1, kind)
        else:
            merged.append(Finding(i, i + 1, kind))
    return merged


def mask_text(text: str, findings: Iterable[Finding] | None = None) -> str:
    """``text`` with every finding (default: :func:`find_pii`) masked character by character."""
    chars = list(text)
    for finding in find_pii(text) if findings is None else findings:
        chars[finding.start : finding.end] = MASKS[finding.kind] * (finding.end - finding.start)
    return "".join(chars)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


def deidentify_record(record: Record) -> Record:
    """``record`` with its text (and the text values of its form) masked; spans keep their
    offsets and re-read their text. The id, specialty and image are left as they are."""
    text = mask_text(record.text)
    if text == record.text and not record.form:
        return record
    spans = tuple(replace(s, text=text[s.start : s.end]) for s in record.spans)
    form = {name: _mask_value(value) for name, value in record.form.items()}
    return replace(record, text=text, spans=spans, form=form)
