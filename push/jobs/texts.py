"""Every Chinese sentence the scheduled jobs write: reminder reasons and department notices.

Kept together (as the message templates are) so that wording is reviewed in one place.
Placeholders use `str.format` names.
"""

from __future__ import annotations

DEADLINE_REASON = {
    7: "您此前收到了这项政策，尚未确认收到；距申报截止还有约7天",
    1: "您此前收到了这项政策，尚未确认收到；申报即将截止",
}

INTERPRETATION_DUE = "《{title}》的政策解读应于{due}前发布（发布后3个工作日），目前尚未填写，请抓紧完成。"
INTERPRETATION_OVERDUE = "《{title}》的政策解读已逾期：应于{due}前发布，至今尚未填写。"
EXPIRY_WARNING = "《{title}》将于{due}失效。如需延续，请及时修订有效期或发布新政策。"

NOTICE_LABELS = {
    "interpretation_due": "解读即将到期",
    "interpretation_overdue": "解读已逾期",
    "expiry_warning": "即将失效",
}


def cn_date(day: object) -> str:
    return f"{day.year}年{day.month}月{day.day}日"  # type: ignore[attr-defined]
