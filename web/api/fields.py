"""Field types shared by the API models.

Text that a database cannot store (NUL characters, lone surrogates) is refused at the door
with a 422 naming the field, instead of failing later inside PostgreSQL with a 500.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**31 - 1  # PostgreSQL integer columns


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("文本中不能包含空字符（\\x00）")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("文本中包含无效的 Unicode 字符") from exc
    return value


def _not_bool(value: object) -> object:
    """JSON true/false is not a number, though pydantic would read it as 1/0."""
    if isinstance(value, bool):
        raise ValueError("须为整数")
    return value


NO_NUL = r"^[^\x00]*$"  # stated in the schema; `_storable` also refuses lone surrogates
WHOLE = BeforeValidator(_not_bool)
ShortText = Annotated[str, Field(max_length=300, pattern=NO_NUL), AfterValidator(_storable)]
LongText = Annotated[str, Field(max_length=200_000, pattern=NO_NUL), AfterValidator(_storable)]
Label = Annotated[str, Field(max_length=120, pattern=NO_NUL), AfterValidator(_storable)]
Code = Annotated[str, Field(max_length=60, pattern=NO_NUL), AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=MAX_ID), WHOLE]
