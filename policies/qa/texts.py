"""Every Chinese sentence Q&A sends to residents and enterprises, in one place."""

from __future__ import annotations

from policies.qa.views import Passage, PolicyRef

ASK_IN_CHINESE = "请用中文简要描述您想了解的政策，例如“公租房谁能申请”“创业补贴怎么申请”。"
NOT_FOUND = (
    "抱歉，没有找到能回答“{question}”的政策。您可以换个说法再问，"
    "或拨打政策咨询电话 {phone}。您的问题已记录，我们会转交相关部门。"
)
TRUNCATED = "（问题较长，只按前 {limit} 个字查找。）"
NOT_VALID_NOTE = "注意：该政策{label}，内容仅供参考。"
ALTERNATIVES_HEADER = "您可能还想了解："
CHOICES_HEADER = "您可能想问以下政策，请点选或回复序号查看："
CHOICES_FOOTER = "都不是？换个说法再问，或拨打政策咨询电话 {phone}。"


SMALL_TALK_GREETING = (
    "您好！我是政策咨询助手。请直接发送您想了解的政策问题，例如“公租房谁能申请”“开个小店有没有补贴”"
    "“我妈80岁了能领什么补贴”。发送“订阅”可按主题接收新政策，发送“帮助”查看全部功能。政策咨询电话 {phone}。"
)
SMALL_TALK_HUMAN = (
    "需要人工服务，请拨打政策咨询电话 {phone}。您也可以直接在这里发送问题，我会先帮您查找相关政策；"
    "发送“帮助”查看全部功能。"
)
SMALL_TALK_THANKS = "不客气！还有其他问题可以直接发送给我，或拨打政策咨询电话 {phone}。"
SMALL_TALK_GOODBYE = "好的，再见！以后有政策问题随时来问，政策咨询电话 {phone}。"


def cite(policy: PolicyRef) -> str:
    parts = [p for p in (policy.doc_no, policy.agency, policy.validity_label) if p]
    return f"《{policy.title}》（{'，'.join(parts)}）"


def policy_answer(policy: PolicyRef, passage: Passage | None, alternatives: tuple[PolicyRef, ...]) -> str:
    lines = [f"根据{cite(policy)}："]
    if passage is not None:
        lines.append(passage.marked())
    if not policy.is_valid:
        lines.append(NOT_VALID_NOTE.format(label=policy.validity_label))
    lines.append(f"详情：{policy.page_path}")
    lines.extend(alternative_lines(alternatives))
    return "\n".join(lines)


def faq_answer(answer: str, policies: tuple[PolicyRef, ...]) -> str:
    lines = [answer]
    if policies:
        lines.append("依据：" + "；".join(f"{cite(p)} {p.page_path}" for p in policies))
    return "\n".join(lines)


def alternative_lines(alternatives: tuple[PolicyRef, ...]) -> list[str]:
    if not alternatives:
        return []
    return [ALTERNATIVES_HEADER] + [
        f"{n}. 《{p.title}》（{p.validity_label}）{p.page_path}" for n, p in enumerate(alternatives, 1)
    ]


def choices_answer(choices: tuple[PolicyRef, ...], phone: str) -> str:
    lines = [CHOICES_HEADER]
    lines += [f"{n}. 《{p.title}》（{p.validity_label}）{p.page_path}" for n, p in enumerate(choices, 1)]
    lines.append(CHOICES_FOOTER.format(phone=phone))
    return "\n".join(lines)


def not_found(question: str, phone: str) -> str:
    shown = question if len(question) <= 30 else question[:30] + "…"
    return NOT_FOUND.format(question=shown, phone=phone)
