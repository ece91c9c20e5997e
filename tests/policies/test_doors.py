"""The policy library's two doors name everything the upper layers use, and opening a door
costs no more than before it grew: the Q&A engine and the calculator's numpy load only when
a caller takes a name that needs them."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import policies.service
import policies.views
from core.lazy_exports import lazy_attributes


@pytest.mark.parametrize("door", [policies.service, policies.views])
def test_every_exported_name_resolves_to_the_library_object(door: object) -> None:
    for name in door.__all__:  # type: ignore[attr-defined]
        value = getattr(door, name)
        source = door._LAZY.get(name)  # type: ignore[attr-defined]
        if source is not None:
            module = importlib.import_module(source[0])
            assert value is (module if source[1] is None else getattr(module, source[1])), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        policies.service.no_such_thing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from policies.views import NoSuchView", {})


def test_lazy_attributes_resolve_once() -> None:
    getattr_ = lazy_attributes("policies.views", {"Counter": ("collections", "Counter")})
    assert getattr_("Counter") is importlib.import_module("collections").Counter
    assert policies.views.Counter is getattr_("Counter")  # type: ignore[attr-defined]
    del policies.views.Counter  # type: ignore[attr-defined]


def _loaded_after(statement: str) -> dict[str, bool]:
    code = (
        f"import sys, json; {statement}; "
        "print(json.dumps({m: m in sys.modules for m in ('policies.qa.engine', 'numpy', 'jieba')}))"
    )
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_opening_the_doors_loads_neither_the_engine_nor_numpy() -> None:
    assert _loaded_after("import policies.service, policies.views") == {
        "policies.qa.engine": False, "numpy": False, "jieba": True,  # the lifecycle's tokenizer, as before
    }
    assert _loaded_after("import policies.views")["jieba"] is False


def test_taking_the_engine_loads_it() -> None:
    assert _loaded_after("from policies.service import QaEngine")["policies.qa.engine"] is True
