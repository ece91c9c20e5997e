"""What a question asks about a policy: the amount, who qualifies, the materials, where and
how to apply, the deadline, or the phone line; and which sentences say it."""

from __future__ import annotations

import re


class Aspect:
    AMOUNT = "amount"
    ELIGIBILITY = "eligibility"
    MATERIALS = "materials"
    HOW = "how"
    DEADLINE = "deadline"
    PHONE = "phone"


# Checked in this order: "带什么材料" is about materials before it is about how to apply.
_ASKED: tuple[tuple[str, re.Pattern[str]], ...] = (
    (Aspect.PHONE, re.compile(r"电话|联系方式|热线|打给谁")),
    (Aspect.MATERIALS, re.compile(r"材料|带什么|要带|准备什么|证件|资料|要交什么|提供什么")),
    (Aspect.DEADLINE, re.compile(r"截止|什么时候|啥时候|几号|期限|哪天|几月|多久|时间")),
    (Aspect.AMOUNT, re.compile(r"多少|标准|金额|几块|额度|比例|最高|能拿|能领|补贴?几|给几")),
    (Aspect.ELIGIBILITY, re.compile(r"谁能|谁可以|条件|资格|符合|哪些人|什么人|能不能|可不可以|对象|够不够")),
    (Aspect.HOW, re.compile(r"怎么|怎样|如何|去哪|在哪|哪里|流程|手续|渠道|网上|线上|办理|申请|报名")),
)
_SAYS: dict[str, re.Pattern[str]] = {
    Aspect.AMOUNT: re.compile(r"\d+(?:\.\d+)?\s*(?:元|万元|%)|标准为|补贴标准|给予|补助"),
    Aspect.ELIGIBILITY: re.compile(r"条件|符合|对象|年满|周岁|户籍|申请人|适用|范围"),
    Aspect.MATERIALS: re.compile(r"材料|原件|复印件|证明|申请表|身份证|提供|回执"),
    Aspect.HOW: re.compile(r"申请|办理|登录|APP|窗口|网上|提交|前往|缴费|渠道|途径|小程序|公众号|步骤|受理"),
    Aspect.DEADLINE: re.compile(r"\d+月\d+日|截止|期限|之前|起至|止|期间|工作日|申报时间"),
    Aspect.PHONE: re.compile(r"电话|热线|\d{7,}|联系"),
}


def asked_aspect(question: str) -> str | None:
    for aspect, pattern in _ASKED:
        if pattern.search(question):
            return aspect
    return None


def says(aspect: str | None, sentence: str) -> bool:
    return aspect is not None and bool(_SAYS[aspect].search(sentence))
