"""Who asks: the anonymous visitor and one user per seat that DOMAIN.md treats differently.

The world's objects belong to 総務省 (soumu) and, for adoption, to 札幌市 (sapporo), so each
kind of tenant has its owner and a second tenant of the same kind: 厚生労働省 (mhlw) for the
ministries, 旭川市 (asahikawa, made by the world) for the municipalities.
"""

from __future__ import annotations

from collections.abc import Iterable

ANONYMOUS = "anonymous"
SECRETARIAT = "secretariat"
OWNER_MINISTRY = "soumu"
OTHER_MINISTRY = "mhlw"
ASSOCIATION = "chijikai"
PREFECTURE = "hokkaido"
MUNICIPALITY = "sapporo"
OTHER_MUNICIPALITY = "asahikawa"

COUNCIL = (SECRETARIAT, OWNER_MINISTRY, OTHER_MINISTRY, ASSOCIATION)
LOCAL = (PREFECTURE, MUNICIPALITY, OTHER_MUNICIPALITY)
USERS = COUNCIL + LOCAL
ACTORS = (ANONYMOUS, *USERS)

# Names an expectation may use for several actors at once.
GROUPS: dict[str, tuple[str, ...]] = {
    "everyone": USERS,
    "council": COUNCIL,
    "local": LOCAL,
    "ministries": (OWNER_MINISTRY, OTHER_MINISTRY),
    "municipalities": (MUNICIPALITY, OTHER_MUNICIPALITY),
}

# Sentinels for answers that are more than a status code.
LOGIN = "login"  # 302 to the login page, with ?next= (pages, anonymous)
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page


def expect(default: int | str, /, **rules: int | str) -> dict[str, int | str]:
    """The answer for every signed-in actor: `default`, then `rules` in the order given,
    each naming an actor or a group of GROUPS (later rules win)."""
    table: dict[str, int | str] = dict.fromkeys(USERS, default)
    for name, status in rules.items():
        members: Iterable[str] = GROUPS.get(name, (name,))
        for member in members:
            if member not in table:
                raise ValueError(f"unknown actor or group {name!r}")
            table[member] = status
    return table
