"""The one check every text passes before it is published or pushed: no personal data.

Lifecycle steps (publish, amend, interpretation of a released policy, repeal) and the FAQ call
it, so the REST API, the console, file import and staff commands in the bot are all covered by
the same rule. Each problem names the field, in Chinese, with the finding already masked.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.pii import find_pii
from policies.validation import Problems
from vocabulary.labels import field_label

# In a refusal the repeal's `reason` is named for what it is; every other field by its one label
# in vocabulary.labels, interpretation elements as 政策解读·<element>.
_REFUSAL_WORDS = {"reason": "废止理由"}


def refusal_label(field_name: str) -> str:
    if field_name in _REFUSAL_WORDS:
        return _REFUSAL_WORDS[field_name]
    if field_name.startswith("interpretation."):
        return "政策解读·" + field_label(field_name).removeprefix("解读·")
    return field_label(field_name)


def interpretation_texts(elements: Mapping[str, object], unit: str = "") -> dict[str, str]:
    """Field name → text of an interpretation, in the names `refusal_label` knows.

    The consultation phone is left out on purpose: it is the department's published line.
    """
    texts = {f"interpretation.{key}": value for key, value in elements.items() if isinstance(value, str)}
    texts["interpretation.unit"] = unit or ""
    return texts


def release_texts(policy: object, body: str, interpretation: object | None) -> dict[str, str]:
    """Every text a release publishes (policy fields, body, interpretation), by field name.

    `policy` and `interpretation` are a Policy / PolicyView and an Interpretation /
    InterpretationView (or None): anything with those attribute names."""
    texts = {name: str(getattr(policy, name, "") or "") for name in ("title", "summary", "benefits", "who_qualifies")}
    texts["body"] = body
    if interpretation is not None:
        texts.update(interpretation_texts(getattr(interpretation, "elements", {}) or {},
                                          str(getattr(interpretation, "unit", "") or "")))
    return texts


def personal_data_problems(texts: Mapping[str, str | None], problems: Problems) -> None:
    """Adds one problem per finding; the message names the field and shows the masked value."""
    for field_name, text in texts.items():
        label = refusal_label(field_name)
        for finding in find_pii(text or ""):
            problems.add(field_name, f"{label}含有个人信息：{finding.describe()}，发布前请删除或遮盖")


def refuse_personal_data(texts: Mapping[str, str | None]) -> None:
    """Raises ValidationFailed (422) listing every finding when any text holds personal data."""
    problems = Problems()
    personal_data_problems(texts, problems)
    problems.raise_if_any()

