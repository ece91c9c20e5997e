"""One translation table for every code value a person could otherwise see.

`label(kind, code)` is the only lookup the console, the CLI, chat messages and exports use:
an unknown code falls back to a neutral Chinese word rather than leaking the code itself.
Topics, regions, industries and eligibility tags carry their own names in the taxonomy
(`vocabulary.taxonomy`); everything else is here.
"""

from __future__ import annotations

from collections.abc import Mapping

TABLES: dict[str, dict[str, str]] = {
    "status": {
        "draft": "草稿", "submitted": "待审核", "approved": "已审核待发布", "published": "有效",
        "expired": "已失效", "repealed": "已废止",
    },
    "role": {
        "admin": "管理员", "editor": "部门编辑", "reviewer": "审核人", "hub_operator": "园区/协会联络员",
        "viewer": "只读用户",
    },
    "channel": {"telegram": "Telegram", "wechat": "微信公众号", "wecom_robot": "企业微信群", "web": "网页"},
    "audience": {"both": "企业和居民", "enterprise": "企业", "resident": "居民"},
    "kind": {"normative": "规范性文件", "other": "其他文件"},
    "subscriber_kind": {"resident": "居民", "enterprise": "企业", "hub": "园区/协会"},
    "hub_kind": {"park": "产业园区", "association": "行业协会"},
    "frequency": {"immediate": "即时推送", "daily": "每日汇总", "weekly": "每周汇总"},
    "enterprise_size": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "history": {
        "create": "起草", "update": "修改草稿", "interpret": "更新解读", "submit": "提交审核",
        "approve": "审核通过", "return": "退回修改", "withdraw": "撤回", "publish": "发布", "amend": "修订",
        "repeal": "废止", "expire": "到期失效",
    },
    "audit": {
        "login": "登录", "logout": "退出", "user.logout": "退出所有登录", "user.create": "创建账号",
        "user.enable": "启用账号",
        "user.disable": "停用账号", "user.password": "修改密码", "token.create": "创建令牌",
        "token.revoke": "吊销令牌",
    },
    "delivery": {
        "pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败", "dead": "投递失败",
        "cancelled": "已取消",
    },
    "inactive_reason": {
        "blocked": "已屏蔽", "unsubscribed": "已退订", "bad_address": "地址无效", "replaced": "已被替换",
    },
    # Accounts the system itself acts as; any other actor is a person's user name, shown as is.
    "actor": {"system": "系统（自动）", "demo": "演示数据", "cli": "命令行"},
    "field": {
        "title": "标题", "body": "正文", "agency": "发文机关", "doc_no": "文号", "kind": "文件类型",
        "audience": "面向对象", "topics": "主题", "keywords": "关键词", "regions": "乡镇", "industries": "行业",
        "eligibility": "享受条件标签", "summary": "摘要", "benefits": "惠企举措", "who_qualifies": "享受条件说明",
        "issued_on": "成文日期", "effective_date": "施行日期", "expiry_date": "失效日期",
        "application_opens": "申报开始", "application_closes": "申报截止", "source_url": "原文地址",
        "password": "密码", "username": "用户名", "role": "角色", "reason": "原因", "comment": "意见",
        "credit_code": "统一社会信用代码", "channel": "渠道", "address": "接收地址", "name": "名称",
        "phone": "电话", "status": "状态", "change_summary": "修订说明",
        "question": "问题", "answer": "答案", "variants": "相似问法",
        "interpretation": "政策解读", "interpretation.unit": "解读单位", "interpretation.phone": "咨询电话",
        "interpretation.background": "解读·背景依据", "interpretation.goals": "解读·目标任务",
        "interpretation.key_points": "解读·创新特点与主要内容", "interpretation.differences": "解读·新旧差异",
        "interpretation.scope": "解读·影响范围", "interpretation.standards": "解读·执行标准",
        "interpretation.notes": "解读·注意事项", "interpretation.benefits": "解读·惠企举措",
        "interpretation.eligibility": "解读·享受条件", "interpretation.keywords": "解读·关键词与专有词",
    },
}

# What a person sees when a code has no entry: a neutral word, never the code.
FALLBACKS: dict[str, str] = {"field": "内容", "status": "未知状态", "history": "其他操作", "audit": "其他操作"}


def label(kind: str, code: str | None) -> str:
    """The Chinese label of `code` in table `kind`; '—' for an empty code."""
    if not code:
        return "—"
    table = TABLES.get(kind, {})
    if code in table:
        return table[code]
    return FALLBACKS.get(kind, "其他")


def labels(kind: str) -> Mapping[str, str]:
    """The whole table, in its documented order (for select lists and checks)."""
    return TABLES[kind]


def code_for(kind: str, text: str) -> str | None:
    """The code a person meant, typed either as the code or as its Chinese label
    (`微信` and `微信公众号` both mean `wechat`)."""
    wanted = text.strip().lower()
    for code, name in TABLES[kind].items():
        if wanted in (code, name.lower()) or (len(wanted) >= 2 and name.lower().startswith(wanted)):
            return code
    return None


def field_label(name: str) -> str:
    return label("field", name)


def actor_label(name: str) -> str:
    """Who did something: the system's own actors in words, people by their user name."""
    return TABLES["actor"].get(name, name) if name else "—"
