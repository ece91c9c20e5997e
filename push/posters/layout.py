"""Poster PDF and PNG: segno draws the QR codes (SVG, level Q), Typst lays out the A4 page.

One `typst.Compiler` is kept per process: the first compile loads the template and the Noto
CJK fonts (~0.1 s); later posters take a few milliseconds. The compiler is not documented as
thread-safe, so calls are serialised by a lock and run off the event loop by the caller.
Fonts come from a local folder (Debian fonts-noto-cjk), never from the network; the PDF embeds
subsets of them, so a print shop needs no Chinese fonts.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno

from push.posters.content import PolicyKeyPoints

TEMPLATE = Path(__file__).with_name("poster.typ")
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/local/share/fonts/noto-cjk"),
)
FONT_FILE = "NotoSansCJK-Regular.ttc"
PREVIEW_PPI = 60


class PosterFontMissing(RuntimeError):
    """No Noto Sans CJK on this machine: the poster cannot be laid out."""


@dataclass(frozen=True)
class PosterPage:
    number: str  # printed in the footer: the poster id
    place: str  # "泾河源镇 东山坡村村委会（村委会）"
    link: str  # the signed short link the QR code carries
    short_link: str  # the same without the scheme, for typing
    points: PolicyKeyPoints
    wechat_qr_url: str = ""  # content of the WeChat parametric code, when there is one
    footer: str = ""


def qr_svg(content: str) -> str:
    """A QR code at error level Q (a quarter of it may be weathered or taped over)."""
    out = io.BytesIO()
    segno.make(content, error="q", boost_error=False, micro=False).save(out, kind="svg", border=2, scale=4)
    return out.getvalue().decode()


def font_dir() -> Path:
    for folder in FONT_DIRS:
        if (folder / FONT_FILE).exists():
            return folder
    raise PosterFontMissing("未找到思源黑体（Noto Sans CJK）：请安装 Debian 软件包 fonts-noto-cjk")


def _page_data(page: PosterPage) -> dict[str, str]:
    p = page.points
    doc_line = "　".join(part for part in (p.doc_no, p.agency) if part)
    return {
        "number": page.number,
        "place": page.place,
        "title": p.title,
        "doc_line": doc_line,
        "validity": p.validity_text,
        "who": p.who_qualifies or "详见政策原文",
        "benefits": p.benefits or "详见政策原文",
        "deadline": p.deadline_text,
        "apply": p.how_to_apply,
        "phone": p.phone,
        "phone_unit": p.phone_unit,
        "qr": qr_svg(page.link),
        "short_link": page.short_link,
        "wechat_qr": qr_svg(page.wechat_qr_url) if page.wechat_qr_url else "",
        "footer": page.footer,
    }


class PosterLayout:
    """Lays out posters with one reused Typst compiler."""

    def __init__(self, fonts: Path | None = None) -> None:
        import typst  # late: no loop; the Typst compiler (a large native module) loads with the first poster

        self._compiler = typst.Compiler(str(TEMPLATE), font_paths=[str(fonts or font_dir())],
                                        ignore_system_fonts=True)
        self._lock = threading.Lock()

    def _compile(self, pages: Sequence[PosterPage], fmt: str, ppi: int | None = None) -> bytes | list[bytes]:
        if not pages:
            raise ValueError("no poster pages to lay out")
        data = json.dumps({"pages": [_page_data(p) for p in pages]}, ensure_ascii=False)
        with self._lock:
            return self._compiler.compile(format=fmt, ppi=ppi, sys_inputs={"data": data})  # type: ignore[no-any-return]

    def pdf(self, pages: Sequence[PosterPage]) -> bytes:
        """One PDF, one A4 page per entry of `pages`."""
        result = self._compile(pages, "pdf")
        assert isinstance(result, bytes)
        return result

    def png(self, page: PosterPage, ppi: int = PREVIEW_PPI) -> bytes:
        """A preview image of one poster."""
        result = self._compile([page], "png", ppi)
        return result if isinstance(result, bytes) else result[0]


_shared: PosterLayout | None = None
_shared_lock = threading.Lock()


def shared_layout() -> PosterLayout:
    """The process's layout (built on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PosterLayout()
        return _shared
