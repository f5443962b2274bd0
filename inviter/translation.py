"""The language staff read: every message, heading, status word, help text and error goes
through gettext, Norwegian Bokmål by default and English on request (SPEC, "Language").

The source strings (msgids) are English; ``inviter/locale/messages/nb/LC_MESSAGES/inviter.mo``
holds the Bokmål of each, compiled from the ``.po`` beside it with Babel (``tools/catalog.py``).
English needs no catalog: it is the msgids themselves. Invitations are not translated here:
they follow each contact's own language through the template sets.

The language is chosen once per run, before anything is printed: ``--lang``, else
``INVITER_LANG``, else ``[organizer] language`` of inviter.toml, else Bokmål.
"""

from __future__ import annotations

import gettext
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

DOMAIN = "inviter"
CATALOGS = Path(__file__).resolve().parent / "locale" / "messages"
LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"

# Other names people type for the two languages: Norwegian as a whole is written Bokmål here
# ("no", "nob"), and a locale name such as nb_NO.UTF-8 means its language.
_ALIASES = {"no": "nb", "nob": "nb", "nor": "nb", "norsk": "nb", "bokmål": "nb", "eng": "en"}

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def normalise_language(value: str) -> str | None:
    """``nb`` or ``en`` for what a person may write (``nb_NO.UTF-8``, ``EN``, ``no``); None
    for a language inviter does not speak."""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    code = _ALIASES.get(code, code)
    return code if code in LANGUAGES else None


def use_language(language: str) -> None:
    """Speak ``language`` (``nb`` or ``en``) from now on, in inviter's messages and Click's.

    Click looks its own words up ("Usage:", "Error:", "No such option") with
    ``gettext.gettext`` (click/core.py: ``from gettext import gettext as _``), which reads the
    process's text domain and the LANGUAGE variable (Python's gettext.find): both are pointed
    at inviter's catalog, which translates Click's words too.
    """
    global _translation, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language = language
    if language == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, CATALOGS, languages=[language])
    gettext.bindtextdomain(DOMAIN, str(CATALOGS))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = language


def current_language() -> str:
    """The language chosen for this run (``nb`` or ``en``)."""
    return _language


def _(message: str) -> str:
    """``message`` in the chosen language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for ``count`` things, in the chosen language."""
    return _translation.ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the chosen language, where the same English word has two meanings."""
    return _translation.pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog, to be translated where it is shown (help texts and
    constants made before the language is chosen)."""
    return message


def choose_language(
    argv: Sequence[str], env: Mapping[str, str], config_path: Path | None
) -> tuple[str, str | None]:
    """The language of this run and, when one was asked for that inviter does not speak, what
    was asked (for an error once the language is set): ``--lang``, ``INVITER_LANG``,
    ``[organizer] language``, Bokmål."""
    asked = option_value(argv, "--lang")
    if asked is None:
        asked = env.get("INVITER_LANG") or None
    if asked is None and config_path is not None:
        # Taken only when it is one of the file's choices; anything else is reported by the
        # settings check, naming the file and the key (in the default language).
        configured = _configured_language(config_path)
        return (configured if configured in LANGUAGES else DEFAULT_LANGUAGE), None
    if asked is None:
        return DEFAULT_LANGUAGE, None
    language = normalise_language(asked)
    return (language, None) if language else (DEFAULT_LANGUAGE, asked)


def option_value(argv: Sequence[str], name: str) -> str | None:
    """The value of ``NAME X`` or ``NAME=X`` on the command line before the first ``--``, read
    before Click parses it (the language must be set first); None when it is not given."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return None
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"{name}="):
            return arg.partition("=")[2]
    return None


def _configured_language(config_path: Path) -> str | None:
    """``[organizer] language`` of inviter.toml, or None; a file that cannot be read says
    nothing here (the command that reads it reports what is wrong, in the default language)."""
    try:
        text = config_path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        organizer = tomllib.loads(text).get("organizer")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    value = organizer.get("language") if isinstance(organizer, dict) else None
    return value if isinstance(value, str) else None
