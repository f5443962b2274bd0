"""Shell completion (issue 18, point 6): meeting slugs and contact addresses, through Click's
own completion protocol, asked of a real ``inviter`` process as bash asks it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Invoke

INVITER = str(Path(sys.executable).with_name("inviter"))


def complete(folder: Path, words: str, **extra: str) -> list[str]:
    """Ask inviter for the completions of the last word of ``words`` (bash's protocol)."""
    env = {
        **os.environ,
        "_INVITER_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        **extra,
    }
    done = subprocess.run(
        [INVITER], cwd=folder, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]


def test_meeting_slugs_complete(project: Path) -> None:
    assert complete(project, "inviter send --meeting temamote-") == [
        "temamote-finnsnes",
        "temamote-tromso",
        "temamote-harstad",
    ]
    assert complete(project, "inviter status --meeting regionmote-n") == ["regionmote-nord-troms"]


def test_contact_addresses_complete(project: Path, invoke: Invoke) -> None:
    assert invoke("contacts", "import", "contacts/troms.csv").exit_code == 0
    assert complete(project, "inviter contacts show elle") == [
        "elle.marja.navvu@kafjord.example.org"
    ]
    found = complete(project, "inviter cancel --meeting temamote-tromso --to s")
    assert found
    assert all(address.startswith("s") for address in found)


def test_nothing_to_complete_without_a_config(tmp_path: Path) -> None:
    # No inviter.toml here: the shell gets no words, and no error text in its prompt.
    assert complete(tmp_path, "inviter send --meeting t") == []
