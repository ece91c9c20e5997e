"""The text a voice reads: a policy's key points written for listening, with numbers, dates,
money, percentages, phone numbers and 文号 spelled the way a Chinese listener expects
(2027年1月20日 → 二零二七年一月二十日, 5000元 → 五千元, 〔2026〕3号 → 二零二六年三号,
0954-5012345 → 零九五四，五零幺二三四五). The synthesiser reads digits one by one or in
English otherwise, and the printed message's layout (links, brackets, lists) means nothing
to the ear.
"""

from __future__ import annotations

import re

from policies.service import mask_pii
from push.posters.content import PolicyKeyPoints, cn_date

DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")

_URL = re.compile(r"https?://\S+|www\.\S+")
_DOC_NO_YEAR = re.compile(r"[〔\[【（(［]\s*(\d{4})\s*[〕\]】）)］]\s*第?(\d{1,5})\s*号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_YEAR = re.compile(r"(\d{4})\s*年")
_PHONE = re.compile(r"(?<!\d)(0\d{2,3})[-－ ]?(\d{7,8})(?!\d)"  # landline with area code
                    r"|(?<!\d)(1[3-9]\d{9})(?!\d)"  # mobile
                    r"|(?<![\d.])(12345|96\d{3})(?![\d.])")  # government hotlines
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_NUMBER = re.compile(r"\d+")
_BRACKETS = str.maketrans({"〔": "", "〕": "", "【": "", "】": "", "《": "", "》": "", "“": "", "”": "",
                           "（": "，", "）": "，", "(": "，", ")": "，", "、": "，", "；": "。", ";": "。",
                           "：": "，", ":": "，", "-": "至", "~": "至", "～": "至"})


def digits(text: str, *, phone: bool = False) -> str:
    """Digit by digit; in phone numbers 1 is 幺, as on every Chinese hotline."""
    spoken = "".join(DIGITS[int(d)] for d in text if d.isdigit())
    return spoken.replace("一", "幺") if phone else spoken


def _four(n: int, *, leading: bool) -> str:
    """0 < n < 10000, read within one 万 group."""
    out = ""
    zero = False
    for power in (3, 2, 1, 0):
        d = n // 10**power % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        if power == 1 and d == 1 and not out and leading:
            out += "十"  # 十五, not 一十五, at the very start
        elif d == 2 and power >= 2 and not out:
            out += "两" + _SMALL_UNITS[power]  # 两千元, 两百人
        else:
            out += DIGITS[d] + _SMALL_UNITS[power]
    return out


def integer(n: int) -> str:
    """A whole number the Chinese way: 5000 → 五千, 15000 → 一万五千, 105 → 一百零五."""
    if n == 0:
        return "零"
    groups = []
    while n:
        groups.append(n % 10_000)
        n //= 10_000
    out = ""
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            if out and not out.endswith("零"):
                out += "零"
            continue
        if out and (group < 1000) and not out.endswith("零"):
            out += "零"
        spoken = _four(group, leading=not out)
        if spoken == "二" and index > 0 and not out:
            spoken = "两"  # 两万, 两亿
        out += spoken + _BIG_UNITS[index]
    return out.rstrip("零")


def number(text: str) -> str:
    """An integer or a decimal as written: 1.5 → 一点五."""
    whole, _, fraction = text.partition(".")
    spoken = integer(int(whole))
    return spoken + ("点" + digits(fraction) if fraction else "")


def speakable(text: str) -> str:
    """`text` with every number spelled out for listening; links are dropped."""
    text = _URL.sub("", text or "")
    text = _DOC_NO_YEAR.sub(lambda m: f"{digits(m.group(1))}年{integer(int(m.group(2)))}号", text)
    text = _ISO_DATE.sub(lambda m: f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日", text)
    text = _DATE.sub(lambda m: f"{digits(m.group(1))}年{integer(int(m.group(2)))}月"
                               + (f"{integer(int(m.group(3)))}日" if m.group(3) else ""), text)
    text = _YEAR.sub(lambda m: f"{digits(m.group(1))}年", text)
    text = _PHONE.sub(lambda m: phone(m.group(0)), text)
    text = _PERCENT.sub(lambda m: "百分之" + number(m.group(1)), text)
    text = _DECIMAL.sub(lambda m: number(m.group(0)), text)
    text = _NUMBER.sub(lambda m: digits(m.group(0)) if len(m.group(0)) > 8 or m.group(0).startswith("0")
                       else integer(int(m.group(0))), text)
    text = text.translate(_BRACKETS)
    text = re.sub(r"[，,\s]*。[，,。\s]*", "。", text)
    return re.sub(r"[，,]{2,}", "，", re.sub(r"\s+", "", text)).strip("，")


def phone(text: str) -> str:
    """A phone number in groups: 0954-5012345 → 零九五四，五零幺二三四五."""
    groups = [g for g in re.split(r"[-－\s]", text) if g]
    if len(groups) == 1 and len(groups[0]) in (11, 12) and groups[0].startswith("0"):
        head = 4 if groups[0][:3] not in ("010",) and not groups[0].startswith("02") else 3
        groups = [groups[0][:head], groups[0][head:]]
    return "，".join(digits(g, phone=True) for g in groups)


def reading_script(points: PolicyKeyPoints) -> list[str]:
    """The sentences the voice reads for one policy, in order (each ends with 。)."""
    sentences = [f"政策播报：{points.title}。"]
    if points.doc_no:
        sentences.append(f"文号：{points.doc_no}。")
    sentences.append(f"发文单位：{points.agency}。")
    if not points.is_valid:
        sentences.append(f"这项政策{points.validity_label}，请以现行政策为准。")
    if points.who_qualifies:
        sentences.append(f"谁可以申请：{points.who_qualifies}。")
    if points.benefits:
        sentences.append(f"可以享受：{points.benefits}。")
    if points.application_closes:
        sentences.append(f"申请截止时间：{cn_date(points.application_closes)}。")
    else:
        sentences.append("申请时间：常年受理。")
    if points.how_to_apply:
        sentences.append(f"怎么申请：{points.how_to_apply}。")
    sentences.append(f"咨询电话：{points.phone}，{points.phone_unit}。")
    sentences.append(f"再说一遍，咨询电话：{points.phone}。以上内容以政策原文为准。")
    return [speakable(s.replace("。。", "。")) for s in sentences]


def reading_text(points: PolicyKeyPoints) -> str:
    return "".join(reading_script(points))


_ANSWER_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


def faq_script(question: str, answer: str, phone: str) -> list[str]:
    """The sentences the voice reads for a knowledge-base answer (personal data masked first)."""
    sentences = [f"常见问题：{mask_pii(question).rstrip('？?')}。"]
    sentences += [s.strip() for s in _ANSWER_SENTENCE.findall(mask_pii(answer)) if s.strip()]
    sentences.append(f"如有疑问，请拨打咨询电话：{phone}。")
    return [speakable(s) for s in sentences]
