"""How a chat shows the new kinds of answer: "您可能想问" with a button per choice, and a
greeting answered as such (not as 没有找到)."""

from __future__ import annotations

from bot.dialogue.questions import answer_buttons, answer_text
from policies.qa.views import Answer, PolicyRef
from vocabulary.actions import Kind, encode

BASE = "https://zc.example.gov.cn"


def ref(policy_id: int, title: str) -> PolicyRef:
    return PolicyRef(policy_id=policy_id, title=title, doc_no=None, agency="泾源县民政局", status="published")


def test_choices_are_listed_with_links_and_offered_as_buttons() -> None:
    answer = Answer(kind="choices", question="老人吃饭有补贴吗", text="…", policy=ref(3, "泾河源镇老年人助餐补贴办法"),
                    alternatives=(ref(4, "六盘山镇老年人助餐补贴办法"), ref(5, "黄花乡老年人助餐补贴办法")),
                    phone="12345", answer_id=77)
    text = answer_text(answer, BASE, "12345", logged=True)
    assert text.startswith("您可能想问")
    assert [f"{BASE}/p/{i}" in text for i in (3, 4, 5)] == [True, True, True]
    assert "没有找到" not in text and "12345" in text
    buttons = answer_buttons(answer, BASE)
    actions = [b.action for row in buttons for b in row]
    assert encode(Kind.OPEN, 3) in actions and encode(Kind.OPEN, 5) in actions
    assert encode(Kind.FEEDBACK, "77.1") in actions  # the 有用/没用 buttons stay


def test_small_talk_is_answered_in_its_own_words() -> None:
    answer = Answer(kind="small_talk", question="你好", text="您好！我是政策咨询助手。", phone="12345", answer_id=8)
    text = answer_text(answer, BASE, "12345", logged=True)
    assert text == "您好！我是政策咨询助手。"
    assert answer_buttons(answer, BASE) == ()
