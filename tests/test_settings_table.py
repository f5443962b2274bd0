"""One table of settings (inviter/settings.py) both checks inviter.toml and writes the README's
reference (issue 19): every row is held against the loader and against the README here."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from inviter.config import ImapSettings, SendSettings, SmtpSettings, load_settings
from inviter.errors import ConfigError
from inviter.settings import ENV_SECTIONS, SETTINGS, Setting, reference, section

ROOT = Path(__file__).resolve().parent.parent
DATACLASSES = {"send": SendSettings, "smtp": SmtpSettings, "imap": ImapSettings}
ENV_ROWS = [s for s in SETTINGS if s.section in ENV_SECTIONS]


def test_the_readme_shows_the_table_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- settings:")
    shown = readme[readme.index("\n", start) + 1 : readme.index("<!-- /settings -->")]
    assert shown == reference(), "run .venv/bin/python -m inviter.settings and paste its table"


@pytest.mark.parametrize("name", ENV_SECTIONS)
def test_each_section_is_its_dataclass_with_the_table_defaults(name: str) -> None:
    fields = {f.name: f.default for f in dataclasses.fields(DATACLASSES[name])}
    assert fields == {key: row.default for key, row in section(name).items()}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


def load_with(config_dir: Path, row: Setting, value: str) -> object:
    """Load a minimal config with one key of one section set as TOML ``value``."""
    path = config_dir / "inviter.toml"
    path.write_text(
        f'[organizer]\nemail = "org@example.org"\n[{row.section}]\n{row.key} = {value}\n',
        encoding="utf-8",
    )
    settings = load_settings(path, env={})
    return getattr(getattr(settings, row.section), row.key)


def toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return f'"{value}"'


@pytest.mark.parametrize("row", ENV_ROWS, ids=lambda r: f"{r.section}.{r.key}")
def test_every_row_is_checked_from_its_limits_and_choices(config_dir: Path, row: Setting) -> None:
    # The default itself is accepted and read back as it is.
    assert load_with(config_dir, row, toml(row.default)) == row.default
    if row.limits:
        low, high = row.limits
        for inside in (low, high):
            assert load_with(config_dir, row, toml(row.kind(inside))) == row.kind(inside)
        step = 1 if row.kind is int else 0.05
        for outside in (low - step, high + step):
            with pytest.raises(ConfigError, match="is out of range"):
                load_with(config_dir, row, toml(row.kind(outside)))
    for choice in row.choices:
        assert load_with(config_dir, row, toml(choice)) == choice
    if row.choices:
        with pytest.raises(ConfigError, match="is not one of"):
            load_with(config_dir, row, '"something-else"')


@pytest.mark.parametrize("row", ENV_ROWS, ids=lambda r: f"{r.section}.{r.key}")
def test_every_row_can_be_set_from_its_environment_variable(config_dir: Path, row: Setting) -> None:
    path = config_dir / "inviter.toml"
    path.write_text('[organizer]\nemail = "org@example.org"\n', encoding="utf-8")
    value = {bool: "false", int: "7", float: "7.5", Path: "elsewhere"}.get(row.kind, "x7")
    if row.choices:
        value = row.choices[-1]
    assert row.env is not None
    settings = load_settings(path, env={row.env: value})
    got = getattr(getattr(settings, row.section), row.key)
    expected = {"false": False, "7": 7, "7.5": 7.5, "elsewhere": Path("elsewhere")}.get(
        value, value
    )
    assert got == expected


def test_a_meeting_key_outside_the_table_is_refused(config_dir: Path) -> None:
    path = config_dir / "inviter.toml"
    path.write_text(
        '[organizer]\nemail = "org@example.org"\n[[meeting]]\nslug = "m"\ntitle = "T"\n'
        'template = "temamote"\nstart = 2022-11-09T10:00:00\nend = 2022-11-09T12:00:00\n'
        'room = "A"\n',
        encoding="utf-8",
    )
    known = ", ".join(sorted(section("meeting")))
    with pytest.raises(ConfigError, match=f"unknown key 'room' \\(known: {known}\\)"):
        load_settings(path, env={})
