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

_BY_KEY: dict[str, str] = {}
for _official, (_region, _aliases) in MUNICIPALITIES.items():
    for _name in (_official, *_aliases):
        _BY_KEY[_name.casefold()] = _official


def official_municipality(name: str) -> str | None:
    """Return the official name of a Troms municipality given any of its names, else None.

    Accepts combined forms such as "Gáivuotna – Kåfjord – Kaivuono" too.
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
    return MUNICIPALITIES[official][0] if official else None


def canonical_region(name: str) -> str | None:
    """Return the region's canonical spelling for a case-insensitive match, else None."""
    key = name.strip().casefold()
    for region in REGIONS:
        if region.casefold() == key:
            return region
    return None
