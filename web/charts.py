"""Charts drawn on the server as SVG geometry (no JavaScript, no chart library): the reach
funnel and deliveries per day. Templates turn these shapes into <svg> elements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FUNNEL_STAGES = (("matched", "匹配"), ("sent", "已发送"), ("read", "已阅读"), ("acknowledged", "已确认"))


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    share: str  # of the first stage, e.g. "45%"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    empty: bool


def funnel(counts: dict[str, int], width: int = 560, row: int = 34) -> Chart:
    """Horizontal bars, one per stage, scaled to the first stage."""
    top = max(counts.get(key, 0) for key, _ in FUNNEL_STAGES) or 0
    label_width = 80  # room for a three-character stage name at the phone's larger chart font
    bars = []
    for i, (key, label) in enumerate(FUNNEL_STAGES):
        value = counts.get(key, 0)
        span = (width - label_width - 130) * (value / top) if top else 0  # 130: the value after the bar
        share = f"{value * 100 / top:.0f}%" if top else "—"
        bars.append(Bar(label=label, value=value, x=label_width, y=i * row + 4, width=round(span, 1),
                        height=row - 10, share=share))
    return Chart(width=width, height=row * len(FUNNEL_STAGES) + 4, bars=bars, empty=top == 0)


def per_day(series: list[tuple[date, int]], width: int = 560, height: int = 180) -> Chart:
    """Vertical bars, one per day, with room for the date labels under them."""
    if not series:
        return Chart(width=width, height=height, bars=[], empty=True)
    plot_height = height - 30
    peak = max(v for _, v in series) or 1
    slot = width / len(series)
    bars = []
    for i, (day, value) in enumerate(series):
        bar_height = plot_height * value / peak
        bars.append(Bar(label=day.strftime("%m-%d"), value=value, x=round(i * slot + slot * 0.15, 1),
                        y=round(plot_height - bar_height, 1), width=round(slot * 0.7, 1),
                        height=round(bar_height, 1), share=""))
    return Chart(width=width, height=height, bars=bars, empty=peak == 0)
