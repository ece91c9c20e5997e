"""Every Chinese sentence the bots say, in one place.

Rules: short, plain words, and each reply ends by telling the reader what they can do next.
Strings are plain text; each front end escapes or formats them for its channel.
"""

from __future__ import annotations

# --- buttons --------------------------------------------------------------------------------

BTN_RESIDENT = "居民"
BTN_ENTERPRISE = "企业"
BTN_HUB = "园区或协会"
BTN_SKIP = "跳过"
BTN_DONE = "完成"
BTN_ALL_TOPICS = "全部主题"
BTN_WHOLE_COUNTY = "只看全县政策"
BTN_IMMEDIATE = "有新政策立即推送"
BTN_DAILY = "每天汇总一次"
BTN_WEEKLY = "每周汇总一次"
BTN_MY = "我的订阅"
BTN_LATEST = "最新政策"
BTN_SUBSCRIBE = "订阅主题"
BTN_SETTINGS = "重新设置"
BTN_HELP = "帮助"
BTN_PAUSE = "暂停推送"
BTN_RESUME = "恢复推送"
BTN_UNSUBSCRIBE_ALL = "全部退订"
BTN_USEFUL = "👍 有用"
BTN_NOT_USEFUL = "👎 没用"
BTN_ASK = "我要咨询"
BTN_OPEN_PAGE = "查看全文"
BTN_FREQUENCY = "推送方式"
BTN_OPEN_TELEGRAM = "在 Telegram 中打开"
BTN_BIND = "绑定微信/Telegram"
BTN_ACK = "确认收到"
CHECKED = "✅ "

# --- start and onboarding --------------------------------------------------------------------

WELCOME_NEW = (
    "您好，欢迎使用泾源县“政策直达”！\n"
    "订阅后，与您相关的新政策会第一时间推送给您；有不明白的地方，直接发问题给我即可。\n"
    "先花半分钟做个设置（每一步都可以跳过，以后随时能改）。"
)
SETUP_AGAIN = "好的，我们重新设置一下（每一步都可以跳过）。"
WELCOME_BACK = "欢迎回来！您可以查看订阅、看看最新政策，或直接发送您的问题。"
ASK_KIND = "第1步：您是？"
ASK_TOWNSHIP = "第2步：您在哪个乡镇？选择后也会收到本乡镇的政策。"
ASK_TOPICS = "第3步：您关心哪些政策？可多选，点一下选中，再点一下取消，选好后点“完成”。"
TOPICS_MENU = "请选择您关心的政策主题（可多选，点一下选中，再点一下取消），选好后点“完成”。"
ASK_FREQUENCY = "第4步：您希望多久收到一次推送？"
FREQUENCY_MENU = "您希望多久收到一次推送？"
ASK_CREDIT_CODE = (
    "最后一步（可跳过）：登记企业后，我们会按企业情况推荐适用政策。\n"
    "请发送：统一社会信用代码 企业名称，例如：\n91640424MA76XXXXXX 泾源县某某农业有限公司"
)
HUB_NOTE = (
    "园区、协会的联系人需由县政务公开办在后台登记，登记后即可向会员转达政策。"
    "您现在可以先按主题订阅。"
)
ONBOARDING_DONE = "设置完成！以下是您的订阅：\n{summary}"
NEXT_STEPS = "接下来：发送问题直接咨询，或点“最新政策”看看近期发布的政策。"
SKIPPED = "已跳过。"
CREDIT_CODE_BAD = "{problem}\n请重新发送“统一社会信用代码 企业名称”，或点“跳过”。"
CREDIT_CODE_NEEDS_NAME = "还需要企业名称。请发送：统一社会信用代码 企业名称（用空格隔开），或点“跳过”。"
ENTERPRISE_SAVED = "已登记企业：{name}。符合贵企业条件的政策也会推荐给您。"

# --- subscriptions ---------------------------------------------------------------------------

SUBSCRIBED_TOPICS = "已订阅：{names}。\n发送“我的订阅”查看全部设置，或继续选择主题。"
SUBSCRIBED_ALL = "已订阅全部政策主题。有新政策会推送给您。发送“我的订阅”可查看或修改。"
TOPIC_ON = "已选中：{name}"
TOPIC_OFF = "已取消：{name}"
UNKNOWN_TOPIC = "没有找到主题“{words}”。可选主题：{names}。\n请重新发送，例如“订阅 就业创业”。"
UNSUBSCRIBED_ALL = (
    "已退订全部政策，您不会再收到推送。\n"
    "想重新订阅，发送“订阅”即可；只想暂时不收，可以发送“暂停”。"
)
UNSUBSCRIBED_TOPIC = "已退订主题：{name}。发送“我的订阅”查看剩余订阅，发送“订阅”可重新选择。"
NOT_SUBSCRIBED_TOPIC = "您没有订阅“{name}”，无需退订。发送“我的订阅”查看当前订阅。"
PAUSED = "已暂停推送，订阅内容都保留着。想恢复时发送“恢复”即可。"
RESUMED = "已恢复推送。有新政策会按您的设置推送给您。"
FREQUENCY_SET = "好的，{label}。"
TOWNSHIP_SET = "已设置乡镇：{name}。"
WHOLE_COUNTY_SET = "好的，只接收全县范围的政策。"
KIND_SET = "好的，您是{label}。"
MY_SUBSCRIPTIONS_HEADER = "您的订阅："

# --- latest and policy cards -----------------------------------------------------------------

LATEST_HEADER_FOR_YOU = "与您订阅相关的最新政策："
LATEST_HEADER_ALL = "最新发布的政策："
LATEST_EMPTY = "暂时还没有发布的政策。有新政策时会推送给您；也可以直接发送问题咨询。"
LATEST_LINE = "{n}. 《{title}》{doc_no}\n   {link}"
LATEST_FOOTER = "点标题下方的按钮查看详情，或直接发送您的问题。"
LATEST_NOTE_NO_MATCH = "您订阅的主题下暂时没有新政策，先为您列出全县最新政策："
CARD_TITLE = "《{title}》"
CARD_FACTS = "文号：{doc_no}｜发文机关：{agency}｜状态：{validity}"
CARD_LINK = "全文和解读：{link}"
CARD_NOT_VALID = "注意：该政策{validity}，内容仅供参考。"
CARD_NEXT = "对这项政策有疑问？直接发送您的问题，例如“{example}”。"
NO_DOC_NO = "无"
POLICY_GONE = "这项政策已不存在（可能已被撤回）。发送“最新”查看最新政策，或直接发送您的问题。"
INTERPRETATION_HEADER = "政策解读：《{title}》"
INTERPRETATION_MISSING = "这项政策的解读还在编写中，请先查看全文：{link}"
INTERPRETATION_PHONE = "解读单位：{unit}，咨询电话：{phone}"

# --- questions -------------------------------------------------------------------------------

ANSWER_FROM = "根据《{title}》（{facts}）："
ANSWER_LINK = "详情：{link}"
ANSWER_NOT_VALID = "注意：该政策{validity}，内容仅供参考。"
ANSWER_ALTERNATIVES = "您可能还想了解："
ANSWER_CHOICES = "您可能想问以下政策，请点选查看："
ANSWER_CHOICES_FOOTER = "都不是？换个说法再问，或拨打政策咨询电话 {phone}。"
ANSWER_ALTERNATIVE_LINE = "{n}. 《{title}》（{validity}）{link}"
ANSWER_FAQ_BASIS = "依据：《{title}》（{facts}）{link}"
ANSWER_NEXT = "这个回答有帮助吗？也可以继续提问。"
NOT_FOUND = (
    "抱歉，没有找到能回答“{question}”的政策。\n"
    "您可以换个说法再问，或拨打政策咨询电话 {phone}。"
)
NOT_FOUND_LOGGED = "您的问题已记录，我们会转交相关部门。"
ASK_IN_CHINESE = "请用中文简要描述您想了解的政策，例如“公租房谁能申请”“创业补贴怎么申请”。"
FEEDBACK_THANKS_USEFUL = "感谢反馈！还有问题可以继续问我。"
FEEDBACK_THANKS_NOT_USEFUL = "感谢反馈，我们会改进。您可以换个说法再问，或拨打政策咨询电话 {phone}。"
FEEDBACK_UNKNOWN = "这条回答已过期，无法评价。请直接发送您的问题。"
ASK_ABOUT_POLICY = "请直接发送您关于《{title}》的问题，例如“谁可以申请”“怎么办理”。也可拨打咨询电话 {phone}。"
ANSWER_LATER = "问题已收到，正在查找，稍后把答案发给您。"

# --- pushed messages -------------------------------------------------------------------------

ACKNOWLEDGED = "已确认收到，谢谢！如有疑问，直接发送问题即可。"
ALREADY_ACKNOWLEDGED = "您已确认过这条推送。如有疑问，直接发送问题即可。"
ACK_NOT_YOURS = "只能确认发给您本人的推送。"
DELIVERY_GONE = "这条推送已过期或不存在。发送“最新”查看最新政策。"
NOTHING_TO_ACKNOWLEDGE = "您还没有收到过需要确认的政策推送。发送“最新”查看最新政策，或直接发送您的问题。"
ACK_ABOUT = "《{title}》："
UNSUB_FROM_PUSH = "已退订主题：{names}。以后不会再收到这类政策。发送“订阅”可重新选择。"
UNSUB_FROM_PUSH_NONE = "这条政策是按您的企业情况或关键词推荐的。发送“退订”可取消全部推送，或发送“我的订阅”查看设置。"

# --- hubs ------------------------------------------------------------------------------------

HUB_JOINED = "您的企业已加入“{hub}”。以后该园区或协会转达的政策也会发给您。"
HUB_INVITE_BAD = "邀请链接无效或已过期，请向园区或协会重新索取。您也可以先发送“订阅”按主题订阅。"
HUB_NEEDS_ENTERPRISE = "加入“{hub}”前需要先登记企业信息。\n" + ASK_CREDIT_CODE.split("\n", 1)[1]

# --- binding the web chat to Telegram / WeChat ---------------------------------------------

BIND_CODE_ISSUED = (
    "您的绑定码：{code}（{until}前有效，只能用一次，请勿告诉他人）。\n"
    "绑定后，网页咨询和微信/Telegram 使用同一份订阅，新政策会同时推送到两边。"
)
BIND_TELEGRAM_LINK = "Telegram：点击链接并按“开始”即可绑定：{link}"
BIND_TELEGRAM_TEXT = "Telegram：向本站机器人发送：/start {payload}"
BIND_WECHAT_TEXT = "微信：在“政策直达”公众号发送：绑定 {code}"
BIND_CODE_FOOTER = "绑定码过期了也没关系，再发送“绑定”获取新的即可。"
BIND_NO_CHANNEL = "本站暂未开通微信公众号或 Telegram 渠道，暂时无法绑定。您可以继续在网页上订阅和咨询。"
BIND_HOW_IN_CHAT = (
    "绑定网页咨询：请在政府网站的“网上咨询”页面发送“绑定”获取绑定码，"
    "然后在这里发送“绑定 绑定码”。"
)
BIND_ONLY_IN_CHAT = "绑定码要在微信公众号或 Telegram 中发送，不是在网页上。发送“绑定”可获取新的绑定码。"
BIND_CODE_PROBLEM = {
    "unknown": "绑定码不正确，没有绑定任何账号。请核对后重新发送“绑定 绑定码”，或在网页咨询中发送“绑定”获取新的。",
    "expired": "绑定码已过期（有效期30分钟），没有绑定任何账号。请在网页咨询中发送“绑定”获取新的绑定码。",
    "used": "这个绑定码已经用过了，不能再用。如需再次绑定，请在网页咨询中发送“绑定”获取新的绑定码。",
}
BIND_ALREADY = "网页咨询已经绑定在这里了，无需重复绑定。发送“我的订阅”查看订阅。"
BIND_DONE = (
    "绑定成功！网页咨询的订阅已合并到这里，以后新政策会同时推送到这里和网页收件箱。\n"
    "合并后的订阅：\n{summary}\n发送“我的订阅”可随时查看或修改。"
)
BIND_REFUSED_HUB = "园区或协会联系人的账号不能与网页咨询合并。请拨打政策咨询电话，由工作人员协助处理。"
BIND_REFUSED_TWO_ENTERPRISES = (
    "网页咨询和这里分别登记了不同的企业，无法自动合并，没有做任何更改。请拨打政策咨询电话，由工作人员协助处理。"
)

# --- help and bad input ----------------------------------------------------------------------

HELP = (
    "政策直达可以：\n"
    "· 订阅：选择关心的政策主题，有新政策自动推送（发送“订阅”，或“订阅 就业创业”）\n"
    "· 我的订阅：查看和修改订阅\n"
    "· 最新：看看与您相关的最新政策\n"
    "· 退订：取消全部订阅（“退订 主题名”只取消一个主题）\n"
    "· 暂停 / 恢复：暂时不收推送，订阅保留\n"
    "· 设置：重新选择身份、乡镇、主题和推送方式\n"
    "· 收到：确认收到最近推送给您的政策\n"
    "· 绑定：把网页咨询和微信/Telegram 绑定，共用一份订阅\n"
    "· 直接发送问题，例如“创业补贴怎么申请”，我会找到相关政策回答您\n"
    "政策咨询电话：{phone}"
)
TELEGRAM_COMMANDS = {
    "start": "开始 / 设置",
    "subscribe": "订阅政策主题",
    "my": "我的订阅",
    "unsubscribe": "退订",
    "latest": "最新政策",
    "help": "帮助",
}
UNKNOWN_COMMAND = (
    "没有“{command}”这个命令。可用命令：/subscribe 订阅、/my 我的订阅、/latest 最新、/help 帮助；"
    "也可以直接发送问题。"
)
EMPTY_MESSAGE = "没有收到文字内容。请直接发送您的问题，或发送“帮助”查看能做什么。"
TOO_LONG = "消息太长了（超过{limit}字）。请用一两句话描述您的问题，例如“创业补贴怎么申请”。"
NON_TEXT = {
    "voice": "暂时听不懂语音，请用文字发送您的问题，例如“创业补贴怎么申请”。",
    "image": "暂时看不懂图片，请用文字描述您的问题，例如“公租房谁能申请”。",
    "sticker": "收到您的表情啦！有政策方面的问题，请直接用文字发送给我。",
}
NON_TEXT_DEFAULT = "暂时只能处理文字消息。请用文字发送您的问题，或发送“帮助”查看能做什么。"
STALE_BUTTON = "这个按钮已失效。发送“帮助”查看能做什么，或直接发送您的问题。"
SOMETHING_WRONG = "抱歉，系统暂时出了点问题，您的订阅不受影响。请稍后再试，或拨打政策咨询电话 {phone}。"
OPTIONS_HINT = "回复数字即可选择："
OPTION_LINE = "{n}. {label}"
BAD_OPTION = "没有第{n}项。请回复列表中的数字，或直接发送您的问题。"

# --- WeChat ----------------------------------------------------------------------------------

WECHAT_MENU = {
    "订阅": "SUBSCRIBE",
    "我的订阅": "MY",
    "最新政策": "LATEST",
    "帮助": "HELP",
}
WECHAT_MENU_GROUP = "政策服务"

# --- web chat --------------------------------------------------------------------------------

WEB_TITLE = "政策直达 · 网上咨询"
WEB_INBOX_EMPTY = "还没有推送。订阅后，与您相关的新政策会出现在这里。"
WEB_INBOX_GONE = "没有找到这条推送（只能确认发给您本人的推送）。请刷新收件箱后再试。"
WEB_INBOX_NOT_ACKNOWLEDGEABLE = "这条消息不是政策推送，无需确认。"
WEB_RATE_LIMITED = "您发送得太快了，请{seconds}秒后再试。如有急事，请拨打政策咨询电话 {phone}。"
WEB_TOO_LARGE = "消息太长了，请用一两句话描述您的问题。"
WEB_BAD_REQUEST = "请求格式不正确，请刷新页面后再试。"

# --- enterprise claims (who may act for an enterprise) ---------------------------------------

ENTERPRISE_SAVED_UNVERIFIED = (
    "已登记企业：{name}（待部门核实）。核实前，按企业信息推荐的政策会注明“未经核实”，请自行核对条件。"
)
ENTERPRISE_CLAIM_PENDING = (
    "这个统一社会信用代码对应的企业已经登记。为保护企业信息，已为您提交认领申请："
    "部门、企业已认证联系人或所在园区审核同意后，您才会成为该企业的联系人。\n"
    "如已从部门或园区拿到认领码，请直接发送“认领 认领码”。在此之前，您按所选主题正常接收政策。"
)
ENTERPRISE_ALREADY_CONTACT = "您已是“{name}”的联系人，企业信息没有变化。"
HUB_JOIN_AFTER_CLAIM = "认领审核通过后，请再次打开园区或协会的邀请链接加入。"
CLAIM_INVITE_REDEEMED = "认领成功：您已成为“{name}”的已认证联系人，符合贵企业条件的政策也会推荐给您。"
CLAIMS_NONE = "目前没有待您审核的企业认领申请。"
CLAIMS_HEAD = "待您审核的企业认领申请（回复“同意认领 编号”或“拒绝认领 编号”）："
CLAIMS_ITEM = "编号 {id}：{who}申请成为“{enterprise}”的联系人（自报企业名称：{claimed}）"
CLAIM_APPROVED = "已同意认领申请 {id}：对方已成为贵企业的联系人。"
CLAIM_REFUSED = "已拒绝认领申请 {id}。"
CLAIMANT_UNNAMED = "一位用户"
