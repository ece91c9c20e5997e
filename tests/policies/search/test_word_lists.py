"""The word lists are read where the caller says DATA_DIR is; the Q&A and search modules
never read the settings themselves (the application passes the phone and folders in)."""

from __future__ import annotations

import ast
from pathlib import Path

from policies.search import word_lists

PACKAGES = [Path(word_lists.__file__).parent, Path(word_lists.__file__).parents[1] / "qa"]


def test_an_edited_list_under_the_given_data_dir_takes_the_place_of_the_shipped_one(tmp_path: Path) -> None:
    shipped = word_lists.read_list("concepts")
    assert "饭馆" in shipped and word_lists.read_list("concepts", tmp_path) == shipped
    assert word_lists.lists_version(tmp_path) == () and word_lists.lists_version(None) == ()

    word_lists.save_list("concepts", shipped + "\n修车铺 => 创业\n", tmp_path)
    assert "修车铺" in word_lists.read_list("concepts", tmp_path)
    assert "修车铺" not in word_lists.read_list("concepts")  # without a folder: as shipped
    assert "修车铺" in word_lists.load_table(tmp_path).words()
    assert "修车铺" not in word_lists.load_table().words()
    first = word_lists.lists_version(tmp_path)
    assert [name for name, _, _ in first] == ["concepts"]

    word_lists.save_list("concepts", shipped + "\n修车铺 => 创业\n洗车店 => 创业\n", tmp_path)
    assert word_lists.lists_version(tmp_path) != first


def test_no_qa_or_search_module_reads_the_settings() -> None:
    for package in PACKAGES:
        for source in package.glob("*.py"):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
            names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     for alias in node.names}
            assert "core.settings" not in imported and "get_settings" not in names, source


def test_every_shipped_list_can_be_saved_back_unchanged(tmp_path: Path) -> None:
    """The console shows every list of WORD_LISTS (the out-of-scope list among them); a
    department opening one and pressing save must not be told the shipped text is wrong."""
    assert {"concepts", "synonyms", "out_of_scope"} <= set(word_lists.WORD_LISTS)
    for name in word_lists.WORD_LISTS:
        shipped = word_lists.read_list(name)
        assert shipped and word_lists.check_list(shipped) == [], name
        word_lists.save_list(name, shipped, tmp_path)
    assert {n for n, _, _ in word_lists.lists_version(tmp_path)} == set(word_lists.WORD_LISTS)
