"""docs/deploy.md, read as an admin would: the README links it, every refbot config in it passes
`refbot config check` (with a throwaway CA where it names a `ca_file`), and every refbot command
it tells to run exists."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import trustme

from tests.conftest import Refbot

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploy.md"


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


def refbot_commands() -> set[tuple[str, ...]]:
    """Each `refbot [--config PATH] COMMAND...` the guide tells to run, as its command words."""
    found = set()
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        match = re.search(r"(?:^|\s|/)refbot (--config \S+ )?([a-z][a-z -]*)", line)
        if match and line.startswith("    "):
            words = [w for w in shlex.split(match.group(2)) if not w.startswith("-")]
            found.add(tuple(words[:2]) if words and words[0] in ("config", "db") else tuple(words[:1]))
    return found


def test_the_readme_links_the_guide():
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_guide_has_a_config_for_each_way_in():
    transports = [tomllib.loads(block)["inbound"]["transport"] for block in toml_blocks()]
    assert sorted(transports) == ["imap", "smtp"]


@pytest.mark.parametrize("number", range(len(toml_blocks())))
def test_every_config_in_the_guide_passes_config_check(number, tmp_path, capsys):
    block = toml_blocks()[number]
    data = tomllib.loads(block)
    for section in ("smtp", "inbound"):
        ca_file = data.get(section, {}).get("ca_file")
        if ca_file:
            trustme.CA().cert_pem.write_to_path(str(tmp_path / ca_file))
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    code, out, err = Refbot(path, capsys)("config", "check")
    assert code == 0, err
    assert ": OK" in out or "valid, with" in out


def test_every_refbot_command_in_the_guide_exists(tmp_path, capsys):
    commands = refbot_commands()
    assert {("config", "check"), ("backup",), ("db", "upgrade")} <= commands
    refbot = Refbot(tmp_path / "config.toml", capsys)
    for words in sorted(commands):
        code, _out, err = refbot(*words, "--help")
        assert code == 0, (words, err)
