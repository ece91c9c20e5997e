"""“我的订阅” in words a resident understands."""

from __future__ import annotations

from subscriptions.validation import SIZE_NAMES
from subscriptions.views import EnterpriseView, HubView, SubscriberView
from vocabulary import taxonomy

FREQUENCY_WORDS = {"immediate": "有新政策立即推送", "daily": "每天汇总推送一次", "weekly": "每周汇总推送一次"}
AUDIENCE_WORDS = {"enterprise": "面向企业的政策", "resident": "面向居民的政策", "both": "面向企业和居民的政策"}
CHANNEL_WORDS = {"telegram": "Telegram", "wechat": "微信公众号", "wecom_robot": "企业微信群", "web": "网站消息"}
INACTIVE_WORDS = {
    "blocked": "您已屏蔽机器人",
    "unsubscribed": "您已取消关注",
    "bad_address": "地址无效",
    "replaced": "已由新地址取代",
}


def _names(codes: tuple[str, ...] | list[str], lookup: object) -> str:
    found = []
    for code in codes:
        item = lookup(code)  # type: ignore[operator]
        found.append(item.name if item else code)
    return "、".join(found)


def _township(code: str) -> str:
    if code == "*":
        return "全部乡镇"
    region = taxonomy.region_by_code(code)
    return region.name if region else code


def describe(view: SubscriberView, enterprise: EnterpriseView | None, hubs: list[HubView]) -> list[str]:
    lines: list[str] = []
    if view.all_topics:
        lines.append("您订阅了全部政策主题。")
    elif view.topics:
        lines.append(f"您订阅的主题：{_names(view.topics, taxonomy.topic_by_code)}。")
    if view.keywords:
        lines.append(f"您关注的关键词：{'、'.join(view.keywords)}（政策中出现这些词时通知您）。")
    if view.recommend_by_profile:
        lines.append("您开启了“按我的情况推荐”：符合您登记条件的政策也会推送给您。")
    if not (view.all_topics or view.topics or view.keywords or view.recommend_by_profile):
        lines.append("您目前没有订阅任何政策。发送“订阅”即可选择感兴趣的主题。")
    if view.townships:
        lines.append(f"地区：全县政策，以及{'、'.join(_township(t) for t in view.townships)}的政策。")
    elif view.township:
        lines.append(f"地区：全县政策，以及{_township(view.township)}的政策。")
    else:
        lines.append("地区：只接收全县范围的政策（登记所在乡镇后，也会收到本乡镇的政策）。")
    lines.append(f"接收：{AUDIENCE_WORDS.get(view.audience, view.audience)}。")
    lines += _profile_lines(view, enterprise, hubs)
    lines += _preference_lines(view)
    for a in view.addresses:
        channel = CHANNEL_WORDS.get(a.channel, a.channel)
        if not a.active:
            lines.append(f"{channel}：已停止发送（{INACTIVE_WORDS.get(a.inactive_reason, a.inactive_reason)}）。")
    lines.append("发送“退订”可取消全部订阅，或“退订 主题名”取消一个主题。")
    return lines


def _profile_lines(view: SubscriberView, enterprise: EnterpriseView | None, hubs: list[HubView]) -> list[str]:
    lines: list[str] = []
    if enterprise is not None:
        facts = [enterprise.name]
        if enterprise.industry:
            industry = taxonomy.industry_by_code(enterprise.industry)
            facts.append(industry.name if industry else enterprise.industry)
        if enterprise.size:
            facts.append(SIZE_NAMES.get(enterprise.size, enterprise.size) + "企业")
        if enterprise.qualifications:
            facts.append(_names(enterprise.qualifications, taxonomy.eligibility_by_code))
        lines.append(f"企业信息：{'，'.join(facts)}。")
    elif view.groups:
        lines.append(f"您登记的身份：{_names(view.groups, taxonomy.eligibility_by_code)}。")
    if hubs:
        lines.append(f"所属园区/协会：{'、'.join(h.name for h in hubs)}。")
    return lines


def _preference_lines(view: SubscriberView) -> list[str]:
    p = view.preference
    if p.paused:
        return ["推送已暂停。发送“恢复”即可重新接收。"]
    lines = [f"推送方式：{FREQUENCY_WORDS.get(p.frequency, p.frequency)}。"]
    if p.quiet_start and p.quiet_end:
        lines.append(f"免打扰时段：{p.quiet_start:%H:%M}–{p.quiet_end:%H:%M}（北京时间）。")
    if p.daily_cap:
        lines.append(f"每天最多推送{p.daily_cap}条。")
    return lines
