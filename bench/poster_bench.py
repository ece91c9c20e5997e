"""QR poster layout speed: one poster after warm-up, and a township batch in one PDF.

Run from the repository root: `.venv/bin/python -m bench.poster_bench [--places 100] [--rounds 20]`.

Measures the layout step the console and API run per download (segno QR codes + the reused
Typst compiler, Noto Sans CJK embedded), with the demo policy's key points; the database
read before it is a few indexed rows and not part of the figure. Goals: < 100 ms per poster
after warm-up, a 100-place batch in < 10 s. CPU time is printed next to wall time because
other processes share this machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from push.posters.content import PolicyKeyPoints
from push.posters.layout import PosterFontMissing, PosterLayout, PosterPage
from push.posters.links import poster_link

POINTS = PolicyKeyPoints(
    title="泾源县一次性创业补贴实施办法", doc_no="泾人社规发〔2026〕1号", agency="泾源县人力资源和社会保障局",
    valid_until=date(2028, 2, 29), is_valid=True, validity_label="有效",
    who_qualifies="在本县首次创办小微企业或从事个体经营、正常经营6个月以上的高校毕业生、返乡农民工、退役军人",
    benefits="一次性创业补贴每户5000元", application_closes=date(2026, 12, 31),
    how_to_apply="申请人持身份证明、营业执照、经营场所证明，到所在乡（镇）便民服务中心或县就业创业服务中心提出申请。",
    phone="0954-5012345", phone_unit="泾源县人力资源和社会保障局",
)


def page(n: int) -> PosterPage:
    link = poster_link("https://zc.jingyuan.gov.cn", n, "bench-secret")
    return PosterPage(number=str(n), place=f"泾河源镇 第{n}村村委会（村委会）", link=link,
                      short_link=link.split("://", 1)[1], points=POINTS, footer="泾源县人力资源和社会保障局")


def timed(work) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    try:
        wall, cpu, layout = timed(PosterLayout)
    except PosterFontMissing as exc:  # a system package, not a Python one: say which, no traceback
        raise SystemExit(f"无法测量海报排版：{exc}") from exc
    print(f"compiler start (fonts, template): wall {wall * 1000:.0f} ms, cpu {cpu * 1000:.0f} ms")
    wall, cpu, pdf = timed(lambda: layout.pdf([page(1)]))
    print(f"first poster (cold):              wall {wall * 1000:.0f} ms, cpu {cpu * 1000:.0f} ms, {len(pdf)} bytes")
    walls, cpus = [], []
    for n in range(args.rounds):
        wall, cpu, _ = timed(lambda n=n: layout.pdf([page(n + 2)]))
        walls.append(wall)
        cpus.append(cpu)
    print(f"one poster after warm-up ({args.rounds} rounds): median wall {statistics.median(walls) * 1000:.1f} ms, "
          f"max {max(walls) * 1000:.1f} ms, median cpu {statistics.median(cpus) * 1000:.1f} ms  (goal < 100 ms)")
    wall, cpu, _ = timed(lambda: layout.png(page(9), ppi=60))
    print(f"PNG preview (60 ppi):             wall {wall * 1000:.0f} ms, cpu {cpu * 1000:.0f} ms")
    pages = [page(1000 + n) for n in range(args.places)]
    wall, cpu, pdf = timed(lambda: layout.pdf(pages))
    print(f"batch of {args.places} places, one PDF:     wall {wall:.2f} s, cpu {cpu:.2f} s, "
          f"{len(pdf) / 1024:.0f} KiB  (goal < 10 s)")


if __name__ == "__main__":
    main()
