"""The command line's own words: argparse's English usage, help and error messages in Chinese.

argparse looks its messages up through gettext at call time, so installing a lookup that maps
the English message ids to Chinese changes every parser of the process without subclassing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

ARGPARSE_MESSAGES: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n请运行 %(prog)s --help 查看用法。\n",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "没有“%(value)s”这个命令，可用：%(choices)s",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要填写一个值",
    "expected at least one argument": "至少需要填写一个值",
    "expected at most one argument": "最多只能填写一个值",
    "invalid %(type)s value: %(value)r": "“%(value)s”不是有效的%(type)s",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "忽略了多余的值 %r",
    "show program's version number and exit": "显示版本号并退出",
}


def chinese(message: str) -> str:
    return ARGPARSE_MESSAGES.get(message, message)


def install(lookup: Callable[[str], str] = chinese) -> None:
    """Makes every argparse parser of this process speak Chinese."""
    argparse._ = lookup  # type: ignore[attr-defined]
