"""`run.py demo` gives its console accounts random passwords, printed once; `serve` warns
while any of them can still log in with that password."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import run
from core.clock import FixedClock
from core.db import Database
from core.settings import Settings
from web import accounts
from web.demo import demo_accounts_left, load_demo


async def test_demo_accounts_get_random_passwords_and_are_tracked(db: Database, clock: FixedClock,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    report = await load_demo(db)
    assert set(report.passwords) == {"admin", "renshe", "shenhe"}
    assert len(set(report.passwords.values())) == 3 and all(len(p) >= 16 for p in report.passwords.values())
    async with db.session() as s:
        assert await accounts.authenticate(s, "renshe", report.passwords["renshe"]) is not None
        assert await accounts.authenticate(s, "renshe", "Demo-2026-zcztd") is None  # the old fixed password
    assert (await load_demo(db)).passwords == {}  # never shown again
    assert await demo_accounts_left(db) == ["admin", "renshe", "shenhe"]

    with caplog.at_level(logging.WARNING, logger="policy_direct"):
        await run.warn_about_demo_accounts(db)
    assert "演示账号" in caplog.text and "renshe" in caplog.text

    async with db.session() as s:
        users = {u.username: u.id for u in await accounts.list_users(s)}
        await accounts.set_password(s, users["admin"], "the operator's own passphrase", actor="admin")
        await accounts.set_user_active(s, users["shenhe"], False, actor="admin")
    assert await demo_accounts_left(db) == ["renshe"]
    async with db.session() as s:
        await accounts.set_user_active(s, users["renshe"], False, actor="admin")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="policy_direct"):
        await run.warn_about_demo_accounts(db)
    assert "演示账号" not in caplog.text


async def test_the_demo_command_prints_each_password_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          clock: FixedClock) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key="test")  # type: ignore[call-arg]
    assert await run.load_demo(settings) == 0
    first = capsys.readouterr().out
    assert "密码只显示这一次" in first
    printed = [line.split("密码 ")[1].strip() for line in first.splitlines()
               if line.startswith("  ") and "密码 " in line]
    assert len(printed) == 3
    assert await run.load_demo(settings) == 0
    second = capsys.readouterr().out
    assert not any(p in second for p in printed)
