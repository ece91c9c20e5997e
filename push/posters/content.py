"""What a poster (and the read-aloud) says about a policy, taken only from the policy's own
fields, which passed the personal-data guard at publication; `mask_pii` runs again on the
way out so that nothing a clerk typed around them (a place name) can print a phone number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from policies.service import find_pii, mask_pii
from policies.views import InterpretationView, PolicyView

FIELD_CHARS = 150  # an A4 poster read from a metre away holds about this much per block
_SENTENCE = re.compile(r"[^。；;\n]+[。；;]?")
# A sentence that says where or how to hand in an application (第四条 申请人持…到…提出申请).
_HOW_TO_APPLY = re.compile(r"(申请|申报|办理).*(到|至|通过|登录|网上|窗口|中心)|(到|至|通过|登录).*(申请|申报|办理)")
_ARTICLE_NUMBER = re.compile(r"^\s*第[一二三四五六七八九十百零〇0-9]+条\s*")


class PlaceHasPersonalData(ValueError):
    """A place name that looks like personal data (a mobile, an ID number) cannot be printed."""


def cn_date(day: date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def clip(text: str, limit: int = FIELD_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def how_to_apply(body: str) -> str:
    """The first sentence of the body that says where or how to apply, without its article number."""
    for sentence in _SENTENCE.findall(body or ""):
        if _HOW_TO_APPLY.search(sentence):
            return _ARTICLE_NUMBER.sub("", sentence.strip())
    return ""


def checked_place(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PlaceHasPersonalData("请填写张贴地点名称，例如“泾河源镇东山坡村村委会”")
    if find_pii(name):
        raise PlaceHasPersonalData("张贴地点名称里不能含有个人信息（手机号码、身份证号等），请只写场所名称")
    return name[:200]


@dataclass(frozen=True)
class PolicyKeyPoints:
    """The key points a poster prints and a voice message reads, in reading order."""

    title: str
    doc_no: str
    agency: str
    valid_until: date | None
    is_valid: bool
    validity_label: str
    who_qualifies: str
    benefits: str
    application_closes: date | None
    how_to_apply: str
    phone: str
    phone_unit: str

    @property
    def validity_text(self) -> str:
        if not self.is_valid:
            return self.validity_label
        return f"有效期至{cn_date(self.valid_until)}" if self.valid_until else "长期有效"

    @property
    def deadline_text(self) -> str:
        return f"{cn_date(self.application_closes)}前" if self.application_closes else "常年受理，以政策原文为准"


def key_points(policy: PolicyView, body: str, interpretation: InterpretationView | None,
               default_phone: str) -> PolicyKeyPoints:
    elements = interpretation.elements if interpretation else {}
    who = policy.who_qualifies or elements.get("eligibility", "") or elements.get("scope", "")
    benefits = policy.benefits or elements.get("standards", "") or policy.summary
    apply = how_to_apply(body) or elements.get("notes", "") or "请携带相关材料到所在乡镇便民服务中心咨询办理"
    phone = (interpretation.phone if interpretation and interpretation.phone else "") or default_phone
    unit = (interpretation.unit if interpretation and interpretation.unit else "") or policy.agency
    return PolicyKeyPoints(
        title=mask_pii(policy.title),
        doc_no=mask_pii(policy.doc_no or ""),
        agency=mask_pii(policy.agency),
        valid_until=policy.expiry_date,
        is_valid=policy.is_valid,
        validity_label=policy.validity_label,
        who_qualifies=clip(mask_pii(who)),
        benefits=clip(mask_pii(benefits)),
        application_closes=policy.application_closes,
        how_to_apply=clip(mask_pii(apply)),
        phone=mask_pii(phone),
        phone_unit=mask_pii(unit),
    )
