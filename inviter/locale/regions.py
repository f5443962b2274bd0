"""The 21 municipalities of Troms and the four regions the county library works in.

Names are official Norwegian names; Sámi and Kven parallel names are accepted as aliases, since
a contact list may use any of them (Gáivuotna – Kåfjord – Kaivuono).
"""

from __future__ import annotations

NORD_TROMS = "Nord-Troms"
TROMSO_OMEGN = "Tromsø og omegn"
MIDT_TROMS = "Midt-Troms"
SOR_TROMS = "Sør-Troms"

REGIONS: tuple[str, ...] = (NORD_TROMS, TROMSO_OMEGN, MIDT_TROMS, SOR_TROMS)

# official name -> (region, parallel names in Sámi and Kven)
MUNICIPALITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Kåfjord": (NORD_TROMS, ("Gáivuotna", "Kaivuono")),
    "Kvænangen": (NORD_TROMS, ("Návuotna", "Naavuono")),
    "Lyngen": (NORD_TROMS, ("Ivgu", "Yykeä")),
    "Nordreisa": (NORD_TROMS, ("Ráisa", "Raisi")),
    "Skjervøy": (NORD_TROMS, ("Skiervá",)),
    "Storfjord": (NORD_TROMS, ("Omasvuotna", "Omasvuono")),
    "Tromsø": (TROMSO_OMEGN, ("Romsa", "Tromssa")),
    "Karlsøy": (TROMSO_OMEGN, ("Gárgu",)),
    "Balsfjord": (TROMSO_OMEGN, ("Báhccavuotna", "Paacivuono")),
    "Senja": (MIDT_TROMS, ("Senjá",)),
    "Målselv": (MIDT_TROMS, ("Málatvuopmi",)),
    "Bardu": (MIDT_TROMS, ("Bearddu",)),
    "Sørreisa": (MIDT_TROMS, ("Ráisavuotna",)),
    "Dyrøy": (MIDT_TROMS, ("Divrráid",)),
    "Salangen": (MIDT_TROMS, ("Siellát",)),
    "Harstad": (SOR_TROMS, ("Hárstták",)),
    "Kvæfjord": (SOR_TROMS, ("Gáivuotna Lulli",)),
    "Tjeldsund": (SOR_TROMS, ("Dielddanuorri",)),
    "Ibestad": (SOR_TROMS, ("Ivvárstádda",)),
    "Gratangen": (SOR_TROMS, ("Rivtták",)),
    "Lavangen": (SOR_TROMS, ("Loabák",)),
}

# The official names with every language form, as Statistics Norway lists them (SSB, the
# municipality register of 2020 for Troms): tables and lists use all forms, and so does inviter
# in every list, export and JSON. The others have a Norwegian name only.
OFFICIAL_NAMES: dict[str, str] = {
    "Harstad": "Harstad – Hárstták",
    "Tjeldsund": "Tjeldsund – Dielddanuorri",
    "Lavangen": "Loabák – Lavangen",
    "Storfjord": "Storfjord – Omasvuotna – Omasvuono",
    "Kåfjord": "Gáivuotna – Kåfjord – Kaivuono",
    "Nordreisa": "Nordreisa – Ráisa – Raisi",
}

_BY_KEY: dict[str, str] = {}
_REGION: dict[str, str] = {}
for _norwegian, (_region, _aliases) in MUNICIPALITIES.items():
    _full = OFFICIAL_NAMES.get(_norwegian, _norwegian)
    _REGION[_full] = _region
    for _name in (_norwegian, _full, *_aliases):
        _BY_KEY[_name.casefold()] = _full


def official_municipality(name: str) -> str | None:
    """Return the official name of a Troms municipality given any of its names, else None.

    The official name keeps all its language forms ("Gáivuotna – Kåfjord – Kaivuono" for
    "Kåfjord" or "Kaivuono"); combined forms in another order are accepted too.
    """
    key = name.strip().casefold()
    if key in _BY_KEY:
        return _BY_KEY[key]
    for part in key.replace("—", "–").replace(" - ", "–").split("–"):
        found = _BY_KEY.get(part.strip())
        if found:
            return found
    return None


def region_of(municipality: str) -> str | None:
    """Return the region of a Troms municipality (any of its names), else None."""
    official = official_municipality(municipality)
    return _REGION[official] if official else None


def canonical_region(name: str) -> str | None:
    """Return the region's canonical spelling for a case-insensitive match, else None."""
    key = name.strip().casefold()
    for region in REGIONS:
        if region.casefold() == key:
            return region
    return None


_NORWEGIAN = {official: norwegian for norwegian, official in OFFICIAL_NAMES.items()}


def norwegian_name(municipality: str) -> str:
    """Return the Norwegian form of an official name (for sorting: Kåfjord under K)."""
    return _NORWEGIAN.get(municipality, municipality)
