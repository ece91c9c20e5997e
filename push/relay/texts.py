"""Every Chinese sentence relay tracking says to hub operators, members and departments.

Kept together (as the message templates are) so that wording is reviewed in one place.
Placeholders use `str.format` names.
"""

from __future__ import annotations

from vocabulary.labels import labels

TASK_NOT_FOUND = "没有找到这项转达任务。"
TASK_NOT_YET = "这项政策的转达任务尚未生成，请稍后再试。"
NOT_A_RELAY_MESSAGE = "这条消息不是待转达的政策，无法转发给会员。"
NOT_YOUR_MESSAGE = "只能转发发给本园区/协会的政策。"
DELIVERY_UNKNOWN = "没有找到这条推送，可能已被撤回。"
POLICY_UNKNOWN = "没有找到这项政策，可能已被撤回，无需确认。"
POLICY_GONE = {
    "repealed": "该政策已废止，不再适用，无需确认或转达。",
    "expired": "该政策已过有效期，不再适用，无需确认或转达。",
}
POLICY_NOT_RELEASED = "该政策尚未发布，无法转达。"

FORWARDED = "已通过系统转发给 {queued} 位会员联系人，每位会员都会看到“由{hub}转达”。"
FORWARDED_EXTRA = "另有 {already} 位此前已收到该政策（不重复发送，仍计入本单位转达）"
FORWARDED_LEFT = "{left} 家企业已退出本园区/协会，未转发"
FORWARDED_NO_ADDRESS = "{no_address} 位会员没有可用的接收地址，未转发"
FORWARDED_NOBODY = "没有可转发的会员：范围内的会员都没有可用的接收地址或已退出。"
ALREADY_FORWARDED = "这项政策已于 {when} 通过系统转发给会员，不会重复发送。"
REPORTED = "已记录：在外部渠道转发给 {count} 家会员。"
REPORT_UPDATED = "已更新外部转发记录：{count} 家会员。"
DECLINED = "已记录拒绝转达，理由：{reason}"
ALREADY_DECLINED = "这项任务已于 {when} 拒绝转达，无需重复操作。"
CANNOT_ACT_DECLINED = "这项任务已拒绝转达，不能再转发或报告。如需转达，请联系发文单位重新下达。"
CANNOT_DECLINE_DONE = "这项政策已转达，不能再拒绝。"
WITHDRAWN = "该政策已废止或失效，转达任务已撤销，无需转达。"

COUNT_INVALID = "转发数量应为 0 到 100000 之间的整数。"
NOTE_TOO_LONG = "备注最多 500 字。"
REASON_REQUIRED = "请填写拒绝转达的理由。"
REASON_TOO_LONG = "理由最多 500 字。"
QUARTER_INVALID = "季度格式应为“2026Q1”（年份加 Q1 至 Q4）。"

ACKNOWLEDGED = "已确认收到，谢谢！"
ALREADY_ACKNOWLEDGED = "您已确认过收到这项政策。"

REMINDER_REASON = (
    "接力转达提醒：请于{due}前将此政策转达给会员（点击“转发给会员”，或在管理后台报告外部转发），"
    "逾期将报送{agency}"
)
ESCALATION = "“{hub}”未在{due}前转达《{title}》（范围内会员 {members} 位），请{agency}跟进。"
HUB_UNREACHABLE = "园区/协会没有可用的接收地址，提醒无法送达，请电话联系"

METHOD_LABELS = {
    "system": "系统转发",
    "external": "外部转发",
    "system+external": "系统转发+外部转发",
    "declined": "拒绝转达",
    "": "—",
}
HUB_KIND_LABELS = labels("hub_kind")
