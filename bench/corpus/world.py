"""The true world: people, objects, locations, events and the links between them.
Built with numpy from one seed; nothing here is corrupted."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np

from bench.corpus import vocab
from bench.corpus.pools import Pools
from bench.corpus.spec import CorpusSpec

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail never uses C I K M O V inward
VRM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"  # no I, Q, Z in memory tags/random letters
AGE_IDENTIFIERS = tuple(f"{y:02d}" for y in range(2, 25)) + tuple(f"{y:02d}" for y in range(51, 75))


@dataclass
class Person:
    id: str
    forename: str
    middle: str
    surname: str
    dob: dt.date
    sex: str
    nationality: str
    alias: tuple[str, str] | None
    moniker: str | None
    community: int
    address: int
    vehicles: list[int] = field(default_factory=list)
    phones: list[int] = field(default_factory=list)
    associates: list[int] = field(default_factory=list)


@dataclass
class Vehicle:
    id: str
    vrm: str
    make: str
    model: str
    colour: str


@dataclass
class Address:
    id: str
    number: int
    street: str
    borough: str
    postcode: str
    lat: float
    lon: float


@dataclass
class Event:
    id: str
    type: str
    date: dt.date
    address: int
    people: list[int]
    victim: int | None
    vehicle: int | None
    phone: int | None
    weapon: str | None
    mo: tuple[str, ...]


@dataclass
class World:
    people: list[Person]
    vehicles: list[Vehicle]
    phones: list[str]
    addresses: list[Address]
    events: list[Event]


# Scalar draws use random.Random seeded from the numpy generator: numpy is ~50x slower per
# single draw, and vector draws do not fit these per-entity branches.


def _vrm(r: random.Random) -> str:
    """Current (AB12 CDE, 2001-), prefix (A123 BCD, 1983-2001) or suffix (ABC 123D) format."""
    L = lambda k: "".join(r.choices(VRM_LETTERS, k=k))  # noqa: E731
    u = r.random()
    if u < 0.8:
        return f"{L(2)}{r.choice(AGE_IDENTIFIERS)} {L(3)}"
    if u < 0.95:
        return f"{L(1)}{r.randrange(1, 1000)} {L(3)}"
    return f"{L(3)} {r.randrange(1, 1000)}{L(1)}"


def _postcode(r: random.Random, district: str) -> str:
    return f"{district} {r.randrange(1, 10)}{''.join(r.choices(INWARD_LETTERS, k=2))}"


def _scalar_rng(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(2**62)))


def _addresses(spec: CorpusSpec, pools: Pools, rng: np.random.Generator) -> list[Address]:
    out = []
    boroughs = pools.boroughs
    # Each borough gets a handful of streets, so addresses cluster as real ones do.
    streets = {b.name: list(rng.choice(pools.streets, 40, replace=False)) for b in boroughs}
    # Arrays read element by element are turned into lists first: a numpy scalar read costs
    # about ten times a list read, and the values (and so the corpus) are the same.
    which = rng.integers(len(boroughs), size=spec.addresses).tolist()
    dlat = rng.normal(0, 0.012, spec.addresses).tolist()
    dlon = rng.normal(0, 0.018, spec.addresses).tolist()
    r = _scalar_rng(rng)
    for i in range(spec.addresses):
        b = boroughs[which[i]]
        out.append(Address(f"L{i:07d}", r.randrange(1, 200), r.choice(streets[b.name]),
                           b.name, _postcode(r, r.choice(b.districts)),
                           round(b.lat + dlat[i], 6), round(b.lon + dlon[i], 6)))
    return out


def _dob(rng: np.random.Generator, n: int) -> list[dt.date]:
    # Offenders skew young: ages 16-65 at 2024 with a mode in the twenties.
    ages = np.clip(rng.gamma(3.0, 7.0, n) + 14, 16, 70)
    base = dt.date(2024, 7, 1).toordinal()
    return [dt.date.fromordinal(base - int(a * 365.25)) for a in ages.tolist()]


def _people(spec: CorpusSpec, pools: Pools, rng: np.random.Generator, n_addr: int) -> list[Person]:
    n = spec.people
    sexes = rng.choice(["M", "F"], n, p=(0.75, 0.25)).tolist()
    surnames = rng.choice(len(pools.surnames), n, p=pools.surname_p).tolist()
    nat_names = [x for x, _ in vocab.NATIONALITIES]
    nat_p = np.array([p for _, p in vocab.NATIONALITIES])
    nats = rng.choice(nat_names, n, p=nat_p / nat_p.sum()).tolist()
    dobs = _dob(rng, n)
    fnames = {s: rng.choice(len(pools.forenames[s]), n, p=pools.forename_p[s]).tolist() for s in "MF"}
    mnames = {s: rng.choice(len(pools.forenames[s]), n, p=pools.forename_p[s]).tolist() for s in "MF"}
    has_alias = (rng.random(n) < spec.alias_share).tolist()
    has_moniker = (rng.random(n) < spec.moniker_share).tolist()
    double = (rng.random(n) < spec.double_barrelled_share).tolist()
    alias_s = rng.choice(len(pools.surnames), n, p=pools.surname_p).tolist()
    alias_f = rng.choice(len(pools.forenames["M"]), n, p=pools.forename_p["M"]).tolist()
    partner_s = rng.choice(len(pools.surnames), n, p=pools.surname_p).tolist()
    addr = rng.integers(0, n_addr, n).tolist()
    people = []
    for i in range(n):
        sex = sexes[i]
        surname = pools.surnames[surnames[i]]
        if double[i] and pools.surnames[partner_s[i]] != surname:
            surname = f"{surname}-{pools.surnames[partner_s[i]]}"
        forename = pools.forenames[sex][fnames[sex][i]]
        middle = pools.forenames[sex][mnames[sex][i]] if rng.random() < 0.7 else ""
        alias = None
        if has_alias[i]:
            af = forename if rng.random() < 0.5 else pools.forenames["M" if sex == "M" else "F"][alias_f[i] % len(pools.forenames[sex])]
            alias = (af, pools.surnames[alias_s[i]])
        people.append(Person(f"P{i:07d}", forename, middle if middle != forename else "", surname,
                             dobs[i], sex, nats[i], alias,
                             str(rng.choice(vocab.MONIKERS)) if has_moniker[i] else None,
                             -1, addr[i]))
    return people


def _communities(spec: CorpusSpec, people: list[Person], rng: np.random.Generator) -> int:
    """Groups that offend together, and the ties of a stochastic block model over them (see
    Communities): each pair inside a group tied with probability p_within, pairs in different
    groups with the probability that gives each member `ties_between` outside ties on average.
    Members of a group often share an address."""
    c = spec.communities
    members = rng.permutation(len(people))[: int(len(people) * c.share_in_community)]
    block = np.full(len(people), -1)
    start, cid, edges = 0, 0, []
    pairs_of = {k: np.triu_indices(k, 1) for k in range(2, c.size_max + 1)}
    while start < len(members):
        size = int(rng.integers(c.size_min, c.size_max + 1))
        group = members[start:start + size]
        block[group] = cid
        for p in group.tolist():
            people[p].community = cid
        if len(group) > 1:
            i, j = pairs_of[len(group)]
            tie = rng.random(len(i)) < c.p_within
            edges.append(np.stack([group[i[tie]], group[j[tie]]], 1))
            if rng.random() < 0.5:
                people[int(group[1])].address = people[int(group[0])].address
        start += size
        cid += 1
    edges.append(_between_group_ties(members, block, c.ties_between, rng))
    pairs = np.concatenate(edges) if edges else np.empty((0, 2), np.int64)
    adj: dict[int, set[int]] = {}
    for a, b in pairs.tolist():
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    for p, near in adj.items():
        people[p].associates = sorted(near)
    return cid


def _between_group_ties(members: np.ndarray, block: np.ndarray, mean_ties: float,
                        rng: np.random.Generator) -> np.ndarray:
    """The sparse part of the block model: every pair of members of different groups tied
    independently with one probability p. Drawn as the binomial number of such ties, then that
    many distinct pairs uniformly (the same thing as a coin per pair, without 10^9 coins)."""
    n = len(members)
    if n < 2 or mean_ties <= 0:
        return np.empty((0, 2), np.int64)
    sizes = np.bincount(block[members])
    pairs_between = (n * (n - 1) - int((sizes * (sizes - 1)).sum())) // 2
    p = min(1.0, mean_ties * n / 2 / max(1, pairs_between))
    want = int(rng.binomial(pairs_between, p))
    got: set[tuple[int, int]] = set()
    while len(got) < want:
        a = members[rng.integers(n, size=2 * (want - len(got)) + 8)]
        b = members[rng.integers(n, size=len(a))]
        for x, y in zip(a.tolist(), b.tolist()):
            if block[x] != block[y] and len(got) < want:
                got.add((min(x, y), max(x, y)))
    return np.array(sorted(got), np.int64).reshape(-1, 2)


def build_world(spec: CorpusSpec, pools: Pools, rng: np.random.Generator) -> World:
    addresses = _addresses(spec, pools, rng)
    people = _people(spec, pools, rng, len(addresses))
    n_comm = _communities(spec, people, rng)
    r = _scalar_rng(rng)
    vehicles, seen = [], set()
    while len(vehicles) < spec.vehicles:
        vrm = _vrm(r)
        if vrm in seen:
            continue
        seen.add(vrm)
        make, model = r.choice(vocab.VEHICLES)
        vehicles.append(Vehicle(f"V{len(vehicles):07d}", vrm, make, model, r.choice(vocab.COLOURS)))
    phones_set: dict[str, None] = {}
    while len(phones_set) < spec.phones:
        phones_set[f"07{r.randrange(100_000_000, 1_000_000_000):09d}"] = None
    phones = list(phones_set)
    for v in range(len(vehicles)):
        people[r.randrange(len(people))].vehicles.append(v)
    for ph in range(len(phones)):
        people[r.randrange(len(people))].phones.append(ph)
    events = _events(spec, people, len(addresses), vehicles, phones, n_comm, rng)
    return World(people, vehicles, phones, addresses, events)


def _events(spec, people, n_addr, vehicles, phones, n_comm, rng) -> list[Event]:
    types = list(vocab.EVENT_TYPES)
    span = (spec.dates.end - spec.dates.start).days
    # Prolific offenders: a Zipf-like activity weight so a few people have many records.
    activity = rng.pareto(1.5, len(people)) + 1
    activity /= activity.sum()
    leads = rng.choice(len(people), spec.events, p=activity).tolist()
    # Every per-event draw made at once with numpy; the loop below only reads the arrays.
    n = spec.events
    u = rng.random((7, n)).tolist()
    etype = rng.integers(len(types), size=n)
    mo_sizes = np.array([len(vocab.EVENT_TYPES[t]) for t in types])[etype]
    mo_a = (rng.random(n) * mo_sizes).astype(int)
    mo_b = ((mo_a + 1 + (rng.random(n) * (mo_sizes - 1)).astype(int)) % mo_sizes).tolist()
    mo_a, etype = mo_a.tolist(), etype.tolist()
    other_addr = rng.integers(n_addr, size=n).tolist()
    other_veh = rng.integers(max(1, len(vehicles)), size=n).tolist()
    victim_of = rng.integers(len(people), size=n).tolist()
    weapon_of = rng.integers(len(vocab.WEAPONS), size=n).tolist()
    day = rng.integers(span + 1, size=n).tolist()
    r = _scalar_rng(rng)
    victims = {"robbery", "assault", "burglary", "fraud", "theft"}
    armed = {"robbery", "assault", "weapons"}
    start = spec.dates.start
    events = []
    u0, u1, u2, u3, u4, u5, u6 = u
    for e in range(n):
        lead = leads[e]
        p = people[lead]
        group = [lead]
        if p.associates and u0[e] < 0.6:  # offends with some of those they are tied to
            k = r.randint(0, min(3, len(p.associates)))
            group += r.sample(p.associates, k)
        t = types[etype[e]]
        mo_pool = vocab.EVENT_TYPES[t]
        mo = (mo_pool[mo_a[e]], mo_pool[mo_b[e]])
        addr = p.address if u1[e] < 0.3 else other_addr[e]
        veh = p.vehicles[0] if p.vehicles and u2[e] < 0.6 else (
            other_veh[e] if vehicles and u3[e] < 0.1 else None)
        phone = p.phones[0] if p.phones and u4[e] < 0.5 else None
        victim = victim_of[e] if t in victims and u5[e] < 0.7 else None
        weapon = vocab.WEAPONS[weapon_of[e]] if t in armed and u6[e] < 0.6 else None
        events.append(Event(f"E{e:07d}", t, start + dt.timedelta(days=day[e]),
                            addr, group, victim if victim not in group else None, veh, phone, weapon, mo))
    return events

