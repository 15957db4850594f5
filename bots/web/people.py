"""Who can be played in the web playground: the web identities of the demo marketplace.

Nobody signs in to the playground, so it only ever speaks for these fictional people
(``web:demo-operator``, ``web:demo-seller-<name>``, ``web:demo-creator-<n>``); any other
web user id is refused before anything reaches the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bots.demo import CREATORS, DEMO_LOGINS, OPERATOR, SELLERS
from core.domain.common import Platform

Group = Literal["operator", "seller", "creator"]

_PREFIX: Final = f"{Platform.WEB.value}:"


@dataclass(frozen=True, slots=True)
class Person:
    """One demo person as the page lists them."""

    user_id: str
    """The web user id, e.g. ``demo-creator-1`` (the identity is ``web:demo-creator-1``)."""
    name: str
    group: Group
    about: str

    @property
    def initials(self) -> str:
        words = [word for word in self.name.replace("-", " ").split() if word[:1].isalnum()]
        return "".join(word[0] for word in words[:2]).upper() or "?"


def _user_id(identity: str) -> str:
    assert identity.startswith(_PREFIX), identity
    return identity.removeprefix(_PREFIX)


def _people() -> tuple[Person, ...]:
    people = [Person(_user_id(OPERATOR), "Operator", "operator", "runs the marketplace")]
    for name, staff in SELLERS:
        for identity in staff:
            if identity.startswith(_PREFIX):
                people.append(Person(_user_id(identity), name, "seller", "seller staff"))
    for number, creator in enumerate(CREATORS, start=1):
        categories = ", ".join(c.replace("_", " ") for c in creator.categories)
        about = f"{creator.country} · {categories}"
        if creator.top:
            about += " · Top Creator"
        people.append(Person(f"demo-creator-{number}", creator.name, "creator", about))
    return tuple(people)


PEOPLE: Final[tuple[Person, ...]] = _people()
_BY_ID: Final[dict[str, Person]] = {person.user_id: person for person in PEOPLE}

# The list above and the seeded logins must never drift apart.
assert {f"{_PREFIX}{p.user_id}" for p in PEOPLE} == set(DEMO_LOGINS)


def person(user_id: str) -> Person | None:
    """The demo person with this web user id (``web:`` prefix allowed), else ``None``."""
    if not isinstance(user_id, str):
        return None
    return _BY_ID.get(user_id.removeprefix(_PREFIX))
