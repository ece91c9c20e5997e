from pathlib import Path

from core.secret_key import secret_key
from core.settings import Settings


def test_explicit_key_wins(tmp_path: Path) -> None:
    assert secret_key(Settings(secret_key="abc", data_dir=tmp_path)) == "abc"
    assert not (tmp_path / "secret_key").exists()


def test_generated_key_is_kept_private_and_stable(tmp_path: Path) -> None:
    first = secret_key(Settings(data_dir=tmp_path))
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(Settings(data_dir=tmp_path)) == first
