"""What a non-editable install gets: every data file under bot/ and templates/ must be in the
wheel, or an installed refbot misses it (without bot/locale/words.toml every reply read as
unreadable)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_files() -> set[str]:
    """Every file the package needs besides its code, by its path inside the wheel."""
    found = set()
    for folder, installed_as in (("bot", "bot"), ("templates", "bot/templates")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                found.add(f"{installed_as}/{path.relative_to(ROOT / folder).as_posix()}")
    return found


def test_the_wheel_holds_every_data_file(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("refbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    expected = data_files()
    assert "bot/locale/words.toml" in expected and "bot/templates/partner/new_referral.txt.j2" in expected
    assert sorted(expected - packed) == []
