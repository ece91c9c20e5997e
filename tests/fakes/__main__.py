"""Run the fakes by hand: ``python -m tests.fakes --telegram-port 8081 --wechat-port 8082 --wecom-port 8083``.

Runs until Ctrl-C.  The Telegram fake logs every sendMessage it receives; push a user message with
``curl -XPOST localhost:8081/_fake/updates -d '{"chat_id": 1001, "text": "/start"}'`` and list what
it received with ``curl localhost:8081/_fake/calls``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.wechat_api import FakeWeChat
from tests.fakes.wecom_robot import FakeWeComRobot


async def serve(args: argparse.Namespace) -> None:
    tg = FakeTelegram(args.host, args.telegram_port, log_sends=True)
    wx = FakeWeChat(args.host, args.wechat_port)
    robot = FakeWeComRobot(args.host, args.wecom_port)
    async with tg, wx, robot:
        robot_url = robot.webhook_url(args.wecom_key)
        print(
            "Fakes running (Ctrl-C to stop):\n"
            f"  Telegram Bot API : {tg.base_url}   (any token 'digits:alnum' works)\n"
            f"  WeChat 公众号 API : {wx.api_base}   appid={wx.appid} secret={wx.secret}\n"
            f"  WeCom robot      : {robot_url}\n"
            "Point the product at them:\n"
            f"  export TELEGRAM_API_BASE={tg.base_url} TELEGRAM_BOT_TOKEN=123456:FAKE\n"
            f"  export WECHAT_API_BASE={wx.api_base}\n"
            f"  export WECHAT_APP_ID={wx.appid} WECHAT_APP_SECRET={wx.secret}\n"
            f"  WeCom robot webhook URL for a subscriber endpoint: {robot_url}\n"
            "Simulate a user:\n"
            f'  curl -XPOST {tg.base_url}/_fake/updates -d \'{{"chat_id": 1001, "text": "/start"}}\'',
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not available on Windows
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    print("Fakes stopped.", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--telegram-port", type=int, default=8081)
    parser.add_argument("--wechat-port", type=int, default=8082)
    parser.add_argument("--wecom-port", type=int, default=8083)
    parser.add_argument("--wecom-key", default="fake-robot-key", help="robot key accepted by the WeCom fake")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
