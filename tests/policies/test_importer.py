from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest

from core.db import Database
from core.settings import Settings
from policies import service as policies
from policies.importer import ImportLimits, import_paths

WORK_PLAN = Path(__file__).resolve().parents[3] / "shared/domain/county-openness-work-plan-2023.txt"

EMPLOYMENT_NOTICE = """泾源县人力资源和社会保障局关于做好2026年一次性创业补贴申领工作的通知
泾人社发〔2026〕8号

各乡（镇）人民政府，县直各部门：

对在我县首次创办小微企业或从事个体经营，且正常经营6个月以上的高校毕业生、返乡农民工、退役军人，给予一次性创业补贴5000元。申报时间为2026年3月1日至2026年6月30日。

泾源县人力资源和社会保障局
2026年2月20日
"""

LIMITS = ImportLimits.from_settings(Settings())


async def test_county_work_plan_imports_with_agency_date_and_topics(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    if not WORK_PLAN.exists():
        pytest.skip(f"{WORK_PLAN} not present")
    report = await import_paths(db, [WORK_PLAN], limits=LIMITS)
    assert report.created == 1, report.outcomes
    outcome = report.outcomes[0]
    assert outcome.agency == "泾源县人民政府办公室"
    assert str(outcome.issued_on) == "2023-07-18"
    assert "泾源县2023年政务公开工作要点" in outcome.title
    async with db.reader() as session:
        draft = await policies.get_policy(session, outcome.policy_id)  # type: ignore[arg-type]
    assert draft.status == "draft"
    assert draft.topics[0] == "openness"  # 政务公开 is what the work plan is about


async def test_txt_docx_json_and_bad_files_in_one_folder(db: Database, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notice.txt").write_text(EMPLOYMENT_NOTICE, encoding="utf-8")
    document = docx.Document()
    for line in EMPLOYMENT_NOTICE.replace("8号", "9号").replace("一次性创业补贴申领", "创业担保贷款贴息").splitlines():
        document.add_paragraph(line)
    document.save(str(tmp_path / "loan.docx"))
    (tmp_path / "batch.json").write_text(
        json.dumps(
            [
                {
                    "title": "泾源县高龄津贴发放办法",
                    "body": "对80周岁以上老年人按月发放高龄津贴。",
                    "agency": "泾源县民政局",
                    "doc_no": "泾民发〔2026〕2号",
                    "topics": ["养老服务"],
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    (tmp_path / "empty.md").write_text("   ", encoding="utf-8")
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")

    report = await import_paths(db, [tmp_path], limits=LIMITS)
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["notice.txt"].status == "created"
    assert by_name["loan.docx"].status == "created"
    assert by_name["batch.json"].status == "created"
    assert by_name["broken.docx"].status == "failed" and "Word" in by_name["broken.docx"].message
    assert by_name["empty.md"].status == "failed"
    assert by_name["bad.json"].status == "failed" and "JSON" in by_name["bad.json"].message

    async with db.reader() as session:
        notice = await policies.get_policy(session, by_name["notice.txt"].policy_id)  # type: ignore[arg-type]
        elderly = await policies.get_policy(session, by_name["batch.json"].policy_id)  # type: ignore[arg-type]
    assert notice.doc_no == "泾人社发〔2026〕8号"
    assert notice.agency == "泾源县人力资源和社会保障局"
    assert "employment" in notice.topics
    assert "elderly_care" in elderly.topics

    again = await import_paths(db, [tmp_path], limits=LIMITS)
    assert again.created == 0 and again.skipped == 3
    assert "已导入过" in {Path(o.path).name: o for o in again.outcomes}["notice.txt"].message


async def test_missing_file_is_reported_not_raised(db: Database, tmp_path: Path) -> None:
    report = await import_paths(db, [tmp_path / "nope.txt"], limits=LIMITS)
    assert report.failed == 1 and report.outcomes[0].message == "文件不存在"
