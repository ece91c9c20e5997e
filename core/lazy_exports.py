"""Re-exports a door loads only when first asked for.

Doors such as `policies.service`, `policies.views` and `bot.views` name heavy modules (the Q&A engine,
the calculator's numpy, aiogram); importing a door must cost no more than the names a
caller actually takes, so most of their names resolve through a module `__getattr__`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_attributes(module_name: str, table: Mapping[str, tuple[str, str | None]]) -> Callable[[str], object]:
    """A module `__getattr__` for `table`: name -> (module, attribute), attribute None for the
    module itself. A resolved name is stored on the door, so the lookup runs once."""

    def __getattr__(name: str) -> object:
        try:
            source, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        module = importlib.import_module(source)
        value = module if attribute is None else getattr(module, attribute)
        setattr(importlib.import_module(module_name), name, value)
        return value

    return __getattr__
