"""The one translation table covers every code value of every enum, never shows a code for an
unknown one, and reads codes typed in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from push.models import DeliveryStatus
from subscriptions.models import EnterpriseSize, Frequency, HubKind, InactiveReason, SubscriberKind
from subscriptions.validation import channel
from subscriptions.views import ChannelName
from vocabulary.codes import Audience, PolicyKind, PolicyStatus
from vocabulary.labels import code_for, field_label, label, labels
from web.models import Role

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("kind", "codes"), [
    ("status", PolicyStatus.ALL), ("role", Role.ALL), ("channel", ChannelName.ALL), ("audience", Audience.ALL),
    ("kind", PolicyKind.ALL), ("hub_kind", HubKind.ALL), ("frequency", Frequency.ALL),
    ("enterprise_size", EnterpriseSize.ALL), ("delivery", DeliveryStatus.ALL), ("inactive_reason", InactiveReason.ALL),
    ("subscriber_kind", SubscriberKind.ALL),
])
def test_every_enum_value_has_a_chinese_label(kind: str, codes: tuple[str, ...]) -> None:
    assert set(codes) == set(labels(kind)), f"{kind}: add the new code to vocabulary/labels.py"
    for code in codes:
        assert re.search(r"[\u4e00-\u9fff]", label(kind, code)) or label(kind, code) == "Telegram"


def test_every_recorded_action_has_a_label() -> None:
    lifecycle = (REPO / "policies/lifecycle.py").read_text(encoding="utf-8")
    history = set(re.findall(r'_record\(session, policy, "(\w+)"', lifecycle))
    assert history and history <= set(labels("history"))
    accounts = (REPO / "web/accounts.py").read_text(encoding="utf-8") + (REPO / "web/console/login.py").read_text(
        encoding="utf-8")
    audited = set(re.findall(r'audit\(session, [\w.]+, "([\w.]+)"', accounts)) | {"user.disable"}
    assert audited and audited <= set(labels("audit"))


def test_unknown_codes_never_leak() -> None:
    assert label("status", "frozen") == "未知状态"
    assert label("channel", "fax") == "其他"
    assert field_label("no_such_field") == "内容"
    assert label("role", "") == "—"


def test_codes_typed_in_chinese() -> None:
    assert code_for("channel", "微信") == "wechat" and code_for("channel", "网页") == "web"
    assert code_for("role", "审核人") == "reviewer" and code_for("role", "editor") == "editor"
    assert code_for("role", "超人") is None
    assert channel("微信") == "wechat" and channel("telegram") == "telegram"
