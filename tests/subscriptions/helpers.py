"""Builders shared by the subscriptions tests."""

from __future__ import annotations

import datetime
from typing import Any

from stdnum.cn import uscc

from policies.views import PolicyView


def credit_code(serial: int) -> str:
    """A valid 统一社会信用代码 (check character computed) for a serial number."""
    base = f"9164042{serial:010d}"
    return base + uscc.calc_check_digit(base)


def policy(**fields: Any) -> PolicyView:
    values: dict[str, Any] = {
        "id": 1,
        "title": "测试政策",
        "doc_no": None,
        "agency": "县人社局",
        "kind": "other",
        "audience": "both",
        "topics": (),
        "regions": (),
        "industries": (),
        "eligibility": (),
        "keywords": (),
        "summary": "",
        "benefits": "",
        "who_qualifies": "",
        "application_opens": None,
        "application_closes": None,
        "effective_date": None,
        "expiry_date": None,
        "issued_on": None,
        "status": "published",
        "urgent": False,
        "revision": 1,
        "published_at": None,
        "created_by": "tester",
        "tokens": frozenset(),
    }
    values.update(fields)
    return PolicyView(**values)


TODAY = datetime.date(2026, 3, 2)  # the `clock` fixture's day in China
