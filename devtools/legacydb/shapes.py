"""The shared world of a generated legacy database: seeded pools, the per-table sampler, value shapes."""

from __future__ import annotations

import calendar
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from devtools.legacydb.vocabulary import AI_MODELS, CITIES, FILE_NAMES, INSTITUTIONS, PRODUCTS

# The app's life before the PostgreSQL switch: first boot to the snapshot (2025-11-14 16:38 +03).
START_MS = calendar.timegm((2025, 8, 1, 9, 0, 0)) * 1000
END_MS = calendar.timegm((2025, 11, 14, 13, 38, 0)) * 1000
SEEDED_MS = START_MS  # the first getDB() that ran every seed
DAY_MS = 86_400_000

NANOID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# JSON.stringify: compact separators, non-ASCII kept. One encoder, because json.dumps with options
# builds a new encoder on every call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
dumps = _JSON.encode

_ASCII_FOLD = str.maketrans("çğıöşüÇĞİÖŞÜâîû", "cgiosuCGIOSUaiu")


def sqlite_ts(ms: int) -> str:
    """``CURRENT_TIMESTAMP`` / ``datetime('now')``: ``'YYYY-MM-DD HH:MM:SS'`` UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))


def iso_z(ms: int) -> str:
    """JavaScript ``toISOString()``: ``'YYYY-MM-DDTHH:MM:SS.sssZ'``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def date_only(ms: int) -> str:
    """``date('now')`` / ``toISOString().split('T')[0]``: ``'YYYY-MM-DD'``."""
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def turkish_date(ms: int, slashed: bool = False) -> str:
    """The ihalebul scraper's calendar date: ``'DD.MM.YYYY'``, sometimes ``'D/M/YYYY'``."""
    t = time.gmtime(ms // 1000)
    if slashed:
        return f"{t.tm_mday}/{t.tm_mon}/{t.tm_year}"
    return f"{t.tm_mday:02d}.{t.tm_mon:02d}.{t.tm_year}"


def ascii_slug(text: str, sep: str = "_") -> str:
    """Lower-case ASCII slug of Turkish text (how the app normalised product names)."""
    folded = text.translate(_ASCII_FOLD).lower()
    return sep.join("".join(c if c.isalnum() else " " for c in folded).split())


# ---------------------------------------------------------------------------------------------
# The shared world and the per-table sampler.


@dataclass
class Pools:
    """Text built once per database from a seeded Faker('tr_TR'); rows pick from it cheaply."""

    people: list[str]
    companies: list[str]
    user_agents: list[str]
    ips: list[str]
    institutions: list[str]
    words: list[str]

    @classmethod
    def build(cls, seed: int, size: int = 400) -> Pools:
        fake = Faker("tr_TR")
        fake.seed_instance(seed)
        rnd = random.Random(f"{seed}:pools")
        return cls(
            people=[fake.name() for _ in range(size)],
            companies=[fake.company() for _ in range(size // 4)],
            user_agents=[fake.user_agent() for _ in range(size // 8)],
            ips=[fake.ipv4_public() for _ in range(size)],
            institutions=[
                rnd.choice(INSTITUTIONS).format(city=city) for city in CITIES for _ in range(2)
            ],
            words=[fake.word() for _ in range(size)],
        )


@dataclass
class World:
    """What every table's sampler shares: the seed, the text pools, the plan, earlier tables' keys."""

    seed: int
    pools: Pools
    counts: dict[str, int] = field(default_factory=dict)
    remembered: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, seed: int, counts: dict[str, int] | None = None) -> World:
        return cls(seed=seed, pools=Pools.build(seed), counts=dict(counts or {}))

    def count(self, table: str) -> int:
        return self.counts.get(table, 0)

    def values(self, table: str, column: str) -> list[Any]:
        return self.remembered.get((table, column), [])


class Sampler:
    """Seeded sources of legacy values for one table: choices, ids, instants and Turkish text."""

    def __init__(self, world: World, table: str) -> None:
        self.world = world
        self.table = table
        self.pools = world.pools
        # A stream per table: a table's rows do not shift when another table's count changes.
        self.random = random.Random(f"{world.seed}:{table}")
        self.choice = self.random.choice
        self.randint = self.random.randint
        self.uniform = self.random.uniform

    # -- numbers and choices
    def chance(self, p: float) -> bool:
        return self.random.random() < p

    def flag(self, p: float) -> int:
        """A legacy 0/1 flag that is 1 with probability ``p``."""
        return 1 if self.random.random() < p else 0

    def price(self, base: float, spread: float = 0.25) -> float:
        """A positive TRY price around ``base``, rounded like ``toFixed(2)``."""
        return max(0.01, round(base * (1 + self.uniform(-spread, spread)), 2))

    # -- instants (epoch ms)
    def moment(self, i: int, total: int, start: int = START_MS, end: int = END_MS) -> int:
        """Row ``i`` of ``total`` spread over the app's life, increasing with ``i``."""
        step = (end - start) / max(total, 1)
        return int(start + (i + self.random.random()) * step)

    def slot(self, i: int, total: int) -> int:
        """The start of row ``i``'s time slot, without jitter (shared by rows that belong together)."""
        return int(START_MS + i * (END_MS - START_MS) / max(total, 1))

    def seeded_at(self, i: int, boot: int = 0, boots: int = 1) -> int:
        """When seed row ``i`` was written: at boot ``boot`` of ``boots`` spread over the app's life."""
        return SEEDED_MS + boot * ((END_MS - SEEDED_MS) // max(boots, 1)) + i * 7

    def later(self, ms: int, low_s: int, high_s: int) -> int:
        return ms + self.randint(low_s * 1000, high_s * 1000)

    # -- ids
    def nanoid(self, size: int) -> str:
        return "".join(self.random.choices(NANOID_ALPHABET, k=size))

    def base36(self, size: int) -> str:
        return "".join(self.random.choices(BASE36, k=size))

    def hex(self, nbytes: int) -> str:
        return f"{self.random.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def digits(self, size: int) -> str:
        return "".join(self.random.choices("0123456789", k=size))

    def stable_token(self, key: int, size: int = 9) -> str:
        """A base36 token fixed by (seed, table, key), without drawing from the row stream."""
        n = int.from_bytes(
            hashlib.blake2b(
                f"{self.world.seed}:{self.table}:{key}".encode(), digest_size=8
            ).digest()
        )
        out = []
        for _ in range(size):
            n, r = divmod(n, 36)
            out.append(BASE36[r])
        return "".join(out)

    # -- text
    def person(self) -> str:
        return self.choice(self.pools.people)

    def company(self) -> str:
        return self.choice(self.pools.companies)

    def institution(self) -> str:
        return self.choice(self.pools.institutions)

    def user_agent(self) -> str:
        return self.choice(self.pools.user_agents)

    def ip(self) -> str:
        return self.choice(self.pools.ips)

    def product(self) -> tuple[str, str, str, float, str]:
        return self.choice(PRODUCTS)

    def fill(self, template: str) -> str:
        """Fill a Turkish message template with domain words and numbers."""
        product = self.choice(PRODUCTS)
        return template.format(
            file=self.choice(FILE_NAMES).format(n=self.randint(1, 999)),
            kurum=self.institution(),
            urun=product[1],
            sehir=self.choice(CITIES),
            kisi=self.person(),
            model=self.choice(AI_MODELS),
            n=self.randint(2, 95),
            fiyat=f"{self.price(product[3]):.2f}",
            oran=f"{self.random.random():.2f}",
        )

    # -- earlier tables
    def user_id(self) -> str | None:
        ids = self.world.values("users", "id")
        return self.choice(ids) if ids else None

    def email(self) -> str | None:
        emails = self.world.values("users", "email")
        return self.choice(emails) if emails else None

    def distinct(self, table: str, column: str, i: int, total: int) -> Any:
        """The ``i``-th of ``total`` distinct values spread over an earlier table's column."""
        values = self.world.values(table, column)
        return values[i * len(values) // max(total, 1)]

    def ref(self, table: str, nullable: float = 0.0) -> int | None:
        """An integer id of an earlier AUTOINCREMENT table (ids are 1..count), or NULL."""
        count = self.world.count(table)
        if count == 0 or (nullable and self.random.random() < nullable):
            return None
        return self.randint(1, count)


