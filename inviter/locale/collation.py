"""Norwegian alphabetical order, and the order of the Troms regions on every list.

Python's ``sorted`` puts Æ, Ø and Å among other non-ASCII letters; a Norwegian reader expects them
after Z, in that order. Full ICU collation is more than a door list needs.
"""

from __future__ import annotations

import unicodedata

from inviter.locale.regions import REGIONS, norwegian_name

# Letters of their own in the Norwegian alphabet, after z. Ä and Ö sort as Æ and Ø, and Ü as Y,
# as Norwegian dictionaries do (Norsk standard NS 4129).
_AFTER_Z = {"æ": "\U0010ff01", "ä": "\U0010ff01", "ø": "\U0010ff02", "ö": "\U0010ff02"}
_AFTER_Z["å"] = "\U0010ff03"
# Sámi letters sort with their base letter (d, n, t) in Norwegian lists; NFD does not split them.
_BASE = {"ü": "y", "đ": "d", "ŋ": "n", "ŧ": "t", "ß": "ss", "þ": "th", "ð": "d", "ł": "l"}

UNKNOWN_REGION = ""


def collation_key(text: str) -> str:
    """Return a key that sorts text in Norwegian alphabetical order, ignoring case and accents."""
    out = []
    for char in text.casefold().strip():
        if char in _AFTER_Z:
            out.append(_AFTER_Z[char])
        elif char in _BASE:
            out.append(_BASE[char])
        else:
            # é, á, č, š, ž …: the base letter (the combining marks NFD splits off are dropped).
            out.extend(
                c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
            )
    return "".join(out)


def region_rank(region: str) -> tuple[int, str]:
    """Return where a region goes: the four Troms regions north to south, others, then unknown."""
    if region in REGIONS:
        return (REGIONS.index(region), "")
    if region.strip():
        return (len(REGIONS), collation_key(region))
    return (len(REGIONS) + 1, "")


def person_key(region: str, municipality: str, name: str, email: str) -> tuple[object, ...]:
    """Return the sort key of a person on a list: region, then municipality, then name."""
    return (
        region_rank(region),
        # Sorted by the Norwegian form: Gáivuotna – Kåfjord – Kaivuono stands under K.
        collation_key(norwegian_name(municipality)),
        collation_key(name),
        name,
        email,
    )
