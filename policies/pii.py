"""PII guard: find and mask personal data before a department publishes a text.

Work-plan item 46 asks that published documents carry no 公民身份号码, 手机号码, 家庭住址,
银行账号或卡号, 出生日期 or 私家车牌号. Every candidate is checked by a validator (check
digits, real dates, personal context words) rather than a bare pattern, because policy texts
are full of numbers that must stay: 文号, office landlines, hotlines, 统一社会信用代码 of
enterprises, document dates and URLs.

Design notes that keep `find_pii(mask_pii(text)) == []`:

* Matching runs on a copy where full-width digits and letters are replaced one for one, so
  offsets into the original stay valid.
* Masks use `*`, and every numeric boundary treats `*` like a digit: the digits a mask keeps
  can never join a neighbour into a new number.
* Context checks (bank words, credit-code words) look at the whole clause, not at a fixed
  number of characters, because masks change lengths and a distance window would then
  pull a far-away word into range.

Layout: `policies.pii_patterns` (patterns and the per-text context), `policies.pii_detectors`
(validators, detectors, overlap resolution), `vocabulary.masking` (the masked form of a value,
shared with every layer) and this module (the public API).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from policies.pii_detectors import DETECTORS, without_overlaps
from policies.pii_patterns import CHEAP_SIGNAL, NEWLINE, Context
from vocabulary.masking import PII_LABELS, mask_value, normalise

__all__ = ["PiiFinding", "find_pii", "mask_pii", "mask_value", "pii_report"]


@dataclass(frozen=True)
class PiiFinding:
    kind: str
    start: int
    end: int
    text: str
    label: str
    line: int
    column: int
    masked: str

    def describe(self) -> str:
        return f"第{self.line}行第{self.column}列：{self.label} {self.masked}"


# --------------------------------------------------------------------------- public API


def _line_starts(text: str) -> list[int]:
    return [0] + [newline.end() for newline in NEWLINE.finditer(text)]


def find_pii(text: str) -> list[PiiFinding]:
    """Personal data in `text`, sorted by position and never overlapping."""
    normalised = normalise(text)
    if not CHEAP_SIGNAL.search(normalised):
        return []
    context = Context(normalised)
    candidates = [
        candidate
        for detector in DETECTORS
        for candidate in detector(context)
        if not context.in_url(candidate.start, candidate.end)
    ]
    kept = without_overlaps(candidates)
    line_starts = _line_starts(text) if kept else [0]
    findings = []
    for candidate in kept:
        original = text[candidate.start : candidate.end]
        line_index = bisect.bisect_right(line_starts, candidate.start) - 1
        findings.append(
            PiiFinding(
                kind=candidate.kind,
                start=candidate.start,
                end=candidate.end,
                text=original,
                label=PII_LABELS[candidate.kind],
                line=line_index + 1,
                column=candidate.start - line_starts[line_index] + 1,
                masked=mask_value(candidate.kind, original),
            )
        )
    return findings


def _replace_findings(text: str, findings: list[PiiFinding]) -> str:
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(finding.masked)
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


# Each pass hides characters for good, so a handful of passes always reaches a clean text.
_MAX_MASK_PASSES = 8


def mask_pii(text: str) -> str:
    """`text` with every finding replaced by its masked form."""
    masked = text
    for _ in range(_MAX_MASK_PASSES):
        findings = find_pii(masked)
        if not findings:
            break
        # One pass is enough for every text the property test has produced; further passes
        # are a safety net for an overlap nobody has thought of, where the candidate that
        # lost could resurface from the characters a mask keeps.
        masked = _replace_findings(masked, findings)
    return masked


def pii_report(text: str) -> list[str]:
    """One Chinese line per finding, for the reviewer who must fix the text."""
    return [finding.describe() for finding in find_pii(text)]
