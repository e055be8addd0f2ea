"""The true world: people, objects, locations, events and the links between them.
Built with numpy from one seed; nothing here is corrupted.

The world is held as arrays, not as an object per entity: ints for indexes and dates (a
person's or an event's side by side in one row, see Rows), names and streets as indexes into
the pools, short codes (registration marks, postcodes) as fixed-width bytes, and each entity's
list of links (a person's associates, vehicles and phones, an event's people) as offsets into
one array. At 10M records the world has 2 million people and 4.5 million events: held as
Python objects, generating took 1.7 GB at 1M records and 3.0 GB at 2M (about 13 GB projected
at 10M), and the generator's forked workers, which share the world copy-on-write, copied every
page on which reading an object wrote its reference count. Arrays take a few bytes an entity
and reading them writes nothing, so the workers share them for good. Person, Vehicle, Address
and Event are views of one entity, made when asked for."""

from __future__ import annotations

import datetime as dt
import random
from array import array
from dataclasses import dataclass

import numpy as np

from bench.corpus import vocab
from bench.corpus.pools import Pools
from bench.corpus.spec import CorpusSpec

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail never uses C I K M O V inward
VRM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"  # no I, Q, Z in memory tags/random letters
AGE_IDENTIFIERS = tuple(f"{y:02d}" for y in range(2, 25)) + tuple(f"{y:02d}" for y in range(51, 75))
NATIONALITY_NAMES = tuple(x for x, _ in vocab.NATIONALITIES)
EVENT_TYPE_NAMES = tuple(vocab.EVENT_TYPES)
VRM_BYTES = 8  # every format's mark is 7 characters and a space
NONE = -1  # in an index column: no such entity or value
KEPT_PAIRS_SIZE = 64  # the pairs of groups up to this size are kept once made: 0.7 MB for all sizes


@dataclass(slots=True)
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


@dataclass(slots=True)
class Vehicle:
    id: str
    vrm: str
    make: str
    model: str
    colour: str


@dataclass(slots=True)
class Address:
    id: str
    number: int
    street: str
    borough: str
    postcode: str
    lat: float
    lon: float


@dataclass(slots=True)
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
    mo: tuple[str, str]


class Links:
    """For each of n rows a run of ints, row i's being items[offsets[i]:offsets[i + 1]]."""

    def __init__(self, offsets: np.ndarray, items: np.ndarray):
        self.offsets, self.items = offsets, items
        self._off, self._items = _read(offsets), _read(items)

    @classmethod
    def group(cls, rows: np.ndarray, items: np.ndarray, n: int) -> "Links":
        """Each item under its row, in the order given (a stable sort by row)."""
        order = np.argsort(rows, kind="stable")
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
        return cls(offsets, np.ascontiguousarray(items[order], np.int32))

    def of(self, i: int) -> list[int]:
        return self._items[self._off[i]:self._off[i + 1]].tolist()

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def first(self) -> np.ndarray:
        """Each row's first item, NONE where the row is empty."""
        out = np.full(len(self.offsets) - 1, NONE, np.int64)
        has = self.counts() > 0
        out[has] = self.items[self.offsets[:-1][has]]
        return out


def weighted_choice(rng: np.random.Generator, p: np.ndarray, size: int, dtype: type = np.int32,
                    block: int = 1 << 18) -> np.ndarray:
    """rng.choice(len(p), size, p=p), the same draws and values (numpy inverts the weights'
    cumulative sum at `size` uniforms), narrowed to `dtype` a block of uniforms at a time: in
    one call numpy holds `size` float64 uniforms and int64 results at once, 160 MB for the 10M
    records' plan."""
    cdf = np.asarray(p, np.float64).cumsum()
    cdf /= cdf[-1]
    out = np.empty(size, dtype)
    for start in range(0, size, block):
        out[start:start + block] = cdf.searchsorted(rng.random(min(block, size - start)), side="right")
    return out


def _read(arr: np.ndarray) -> memoryview:
    """A column read one element at a time: a memoryview returns a Python int or float for about
    a third of what a numpy scalar read costs, and shares the array's memory."""
    return memoryview(np.ascontiguousarray(arr))


PERSON_FIELDS = ("male", "forename", "middle", "surname", "partner", "dob", "nationality", "alias_forename",
                 "alias_surname", "moniker", "community", "address")
EVENT_FIELDS = ("type", "date", "address", "victim", "vehicle", "phone", "weapon", "mo_a", "mo_b")
ADDRESS_FIELDS = ("number", "street", "borough")


class Rows:
    """Entities as rows of int32 fields side by side. A view reads one entity's fields at once:
    from separate columns each field of an entity read at random was a cache miss of its own
    (1.2 against 0.5 µs to read a person's twelve fields, among 2 million people)."""

    def __init__(self, columns: dict[str, np.ndarray], fields: tuple[str, ...]):
        """Takes the columns out of `columns` one at a time (each is freed once copied)."""
        self.fields, self.width = fields, len(fields)
        self.array = np.empty((len(columns[fields[0]]), self.width), np.int32)
        for j, name in enumerate(fields):
            self.array[:, j] = columns.pop(name)
        self._flat = memoryview(self.array).cast("B").cast("i")

    def __len__(self) -> int:
        return len(self.array)

    def row(self, i: int) -> list[int]:
        return self._flat[i * self.width:(i + 1) * self.width].tolist()

    def column(self, name: str) -> np.ndarray:
        return self.array[:, self.fields.index(name)]


class World:
    """The world's columns (see the module's docstring) and views of one entity at a time."""

    def __init__(self, pools: Pools, people: dict[str, np.ndarray], associates: Links, vehicles_of: Links,
                 phones_of: Links, vehicles: dict[str, np.ndarray], phones: np.ndarray,
                 addresses: dict[str, np.ndarray], events: dict[str, np.ndarray], event_people: Links):
        self.pools = pools
        self.people, self.events = Rows(people, PERSON_FIELDS), Rows(events, EVENT_FIELDS)
        self.address_rows = Rows(addresses, ADDRESS_FIELDS)
        self.addresses = addresses  # what is not an int: postcode, lat, lon
        self.vehicles = vehicles
        self.phones = phones  # the number's last nine digits ("07" + nine digits)
        self.associates, self.vehicles_of, self.phones_of, self.event_people = (
            associates, vehicles_of, phones_of, event_people)
        self.n_people, self.n_vehicles = len(self.people), len(vehicles["make_model"])
        self.n_phones, self.n_addresses, self.n_events = len(phones), len(self.address_rows), len(self.events)
        self._v = tuple(_read(vehicles[k]) for k in ("make_model", "colour"))
        self._lat, self._lon = _read(addresses["lat"]), _read(addresses["lon"])
        self._t = _read(phones)
        # Every day a birth or an event falls on, made once (a few tens of thousands of days,
        # whatever the world's size): a date made per read cost a sixth of a person's view.
        dob, date = self.people.column("dob"), self.events.column("date")
        first, last = int(min(dob.min(), date.min())), int(max(dob.max(), date.max()))
        self._days, self._day0 = tuple(dt.date.fromordinal(d) for d in range(first, last + 1)), first
        self._forenames = {1: pools.forenames["M"], 0: pools.forenames["F"]}
        self._surnames = pools.surnames
        self._streets = tuple(pools.streets)
        self._boroughs = tuple(b.name for b in pools.boroughs)

    def person(self, i: int) -> Person:
        male, fore, mid, sur, partner, dob, nat, alias_fore, alias_sur, moniker, community, address = \
            self.people.row(i)
        names, surnames = self._forenames[male], self._surnames
        surname = surnames[sur]
        if partner != NONE:
            surname = f"{surname}-{surnames[partner]}"
        return Person(f"P{i:07d}", names[fore], names[mid] if mid != NONE else "", surname,
                      self._days[dob - self._day0], "M" if male else "F", NATIONALITY_NAMES[nat],
                      (names[alias_fore], surnames[alias_sur]) if alias_sur != NONE else None,
                      vocab.MONIKERS[moniker] if moniker != NONE else None, community, address)

    def vehicle(self, i: int) -> Vehicle:
        make_model, colour = self._v
        make, model = vocab.VEHICLES[make_model[i]]
        return Vehicle(f"V{i:07d}", self.vehicles["vrm"][i].decode(), make, model, vocab.COLOURS[colour[i]])

    def phone(self, i: int) -> str:
        return f"07{self._t[i]:09d}"

    def address(self, i: int) -> Address:
        number, street, borough = self.address_rows.row(i)
        return Address(f"L{i:07d}", number, self._streets[street], self._boroughs[borough],
                       self.addresses["postcode"][i].decode(), self._lat[i], self._lon[i])

    def event(self, i: int) -> Event:
        etype, date, address, victim, vehicle, phone, weapon, mo_a, mo_b = self.events.row(i)
        t = EVENT_TYPE_NAMES[etype]
        mo = vocab.EVENT_TYPES[t]
        return Event(f"E{i:07d}", t, self._days[date - self._day0], address, self.event_people.of(i),
                     victim if victim != NONE else None, vehicle if vehicle != NONE else None,
                     phone if phone != NONE else None, vocab.WEAPONS[weapon] if weapon != NONE else None,
                     (mo[mo_a], mo[mo_b]))


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


def _fixed(buf: bytearray, width: int) -> np.ndarray:
    """Strings appended to `buf`, each padded to `width` bytes, as a fixed-width bytes column."""
    return np.frombuffer(bytes(buf), f"S{width}").copy()


def _addresses(spec: CorpusSpec, pools: Pools, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, boroughs = spec.addresses, pools.boroughs
    # Each borough gets a handful of streets, so addresses cluster as real ones do. Drawn as
    # indexes into the pool: the same draws as drawing the names themselves.
    streets = [rng.choice(len(pools.streets), 40, replace=False).tolist() for _ in boroughs]
    which = rng.integers(len(boroughs), size=n)
    dlat, dlon = rng.normal(0, 0.012, n), rng.normal(0, 0.018, n)
    r = _scalar_rng(rng)
    width = max(len(d) for b in boroughs for d in b.districts) + 4  # "SW1A 2AA"
    number, street, lat, lon, postcode = array("h"), array("h"), array("d"), array("d"), bytearray()
    w, dla, dlo = _read(which), _read(dlat), _read(dlon)
    for i in range(n):
        b = boroughs[w[i]]
        number.append(r.randrange(1, 200))
        street.append(r.choice(streets[w[i]]))
        postcode += _postcode(r, r.choice(b.districts)).encode().ljust(width, b"\0")
        # Python's round, not numpy's: they differ in the last bit for some values.
        lat.append(round(b.lat + dla[i], 6))
        lon.append(round(b.lon + dlo[i], 6))
    return {"number": np.frombuffer(number, np.int16), "street": np.frombuffer(street, np.int16),
            "borough": which.astype(np.int8), "postcode": _fixed(postcode, width),
            "lat": np.frombuffer(lat, np.float64), "lon": np.frombuffer(lon, np.float64)}


def _dob(rng: np.random.Generator, n: int) -> np.ndarray:
    """Day numbers of birth dates."""
    # Offenders skew young: ages 16-65 at 2024 with a mode in the twenties.
    ages = np.clip(rng.gamma(3.0, 7.0, n) + 14, 16, 70)
    base = dt.date(2024, 7, 1).toordinal()
    return (base - (ages * 365.25).astype(np.int64)).astype(np.int32)  # truncated, as int() does


def _people(spec: CorpusSpec, pools: Pools, rng: np.random.Generator, n_addr: int) -> dict[str, np.ndarray]:
    n = spec.people
    # Each draw narrowed as soon as it is made (numpy gives int64: 16 MB a column at 2M people).
    male = rng.choice(2, n, p=(0.75, 0.25)) == 0  # drawn as ["M", "F"] was: the same draws
    surnames = rng.choice(len(pools.surnames), n, p=pools.surname_p).astype(np.int32)
    nat_p = np.array([p for _, p in vocab.NATIONALITIES])
    nats = rng.choice(len(NATIONALITY_NAMES), n, p=nat_p / nat_p.sum()).astype(np.int8)
    dobs = _dob(rng, n)
    fnames = {s: rng.choice(len(pools.forenames[s]), n, p=pools.forename_p[s]).astype(np.int32) for s in "MF"}
    mnames = {s: rng.choice(len(pools.forenames[s]), n, p=pools.forename_p[s]).astype(np.int32) for s in "MF"}
    has_alias = rng.random(n) < spec.alias_share
    has_moniker = rng.random(n) < spec.moniker_share
    double = rng.random(n) < spec.double_barrelled_share
    alias_s = rng.choice(len(pools.surnames), n, p=pools.surname_p).astype(np.int32)
    alias_f = rng.choice(len(pools.forenames["M"]), n, p=pools.forename_p["M"]).astype(np.int32)
    partner_s = rng.choice(len(pools.surnames), n, p=pools.surname_p).astype(np.int32)
    addr = rng.integers(0, n_addr, n).astype(np.int32)
    # The draws made per person, in the order they were made: a middle name kept or not, the
    # alias's forename its own or not (for those with an alias), a moniker (for those with one).
    keep_middle, own_alias = np.zeros(n, bool), np.zeros(n, bool)
    moniker = np.full(n, NONE, np.int8)
    alias_l, moniker_l = has_alias.tolist(), has_moniker.tolist()
    random, n_monikers = rng.random, len(vocab.MONIKERS)
    km, oa, mk = _read(keep_middle), _read(own_alias), _read(moniker)
    for i in range(n):
        km[i] = random() < 0.7
        if alias_l[i]:
            oa[i] = random() < 0.5
        if moniker_l[i]:
            mk[i] = rng.choice(n_monikers)  # drawn as from the names themselves: the same draws
    fore = np.where(male, fnames["M"], fnames["F"])
    mid = np.where(male, mnames["M"], mnames["F"])
    del fnames, mnames
    n_fore = np.where(male, len(pools.forenames["M"]), len(pools.forenames["F"])).astype(np.int32)
    return {
        "male": male, "forename": fore.astype(np.int32),
        # A middle name the same as the forename is left out.
        "middle": np.where(keep_middle & (mid != fore), mid, NONE).astype(np.int32),
        "surname": surnames.astype(np.int32),
        # Surnames in the pool are distinct, so a partner's differs exactly when its index does.
        "partner": np.where(double & (partner_s != surnames), partner_s, NONE).astype(np.int32),
        "dob": dobs, "nationality": nats.astype(np.int8),
        "alias_forename": np.where(own_alias, fore, alias_f % n_fore).astype(np.int32),
        "alias_surname": np.where(has_alias, alias_s, NONE).astype(np.int32),
        "moniker": moniker, "community": np.full(n, NONE, np.int32), "address": addr}


def _communities(spec: CorpusSpec, people: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[int, Links]:
    """Groups that offend together, and the ties of a stochastic block model over them (see
    Communities): each pair inside a group tied with probability p_within, pairs in different
    groups with the probability that gives each member `ties_between` outside ties on average.
    Members of a group often share an address. Sets people's community and address; returns
    the number of groups and each person's associates."""
    c, n = spec.communities, len(people["dob"])
    members = rng.permutation(n)[: int(n * c.share_in_community)]
    block, address = people["community"], people["address"]
    start, cid, edges = 0, 0, []
    # The pairs of a group of each small size, made when first drawn and kept, as small groups
    # are many. Made for every size up to size_max they were size_max**3 / 6 pairs whatever the
    # groups (2.7 GB at size_max 1000), and kept for every size drawn they grew as much once most
    # sizes had been drawn; a larger group's are made for it alone, at about the cost of its coins.
    pairs_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    while start < len(members):
        size = int(rng.integers(c.size_min, c.size_max + 1))
        group = members[start:start + size]
        block[group] = cid
        if len(group) > 1:
            pairs = pairs_of.get(len(group))
            if pairs is None:
                pairs = np.triu_indices(len(group), 1)
                if len(group) <= KEPT_PAIRS_SIZE:
                    pairs_of[len(group)] = pairs
            i, j = pairs
            tie = rng.random(len(i)) < c.p_within
            edges.append(np.stack([group[i[tie]], group[j[tie]]], 1))
            if rng.random() < 0.5:
                address[group[1]] = address[group[0]]
        start += size
        cid += 1
    edges.append(_between_group_ties(members, block, c.ties_between, rng))
    pairs = np.concatenate(edges) if edges else np.empty((0, 2), np.int64)
    del edges
    # Each tie both ways, once, in order (a person's associates sorted): as one sorted key a tie.
    key = np.unique(np.concatenate([pairs[:, 0] * n + pairs[:, 1], pairs[:, 1] * n + pairs[:, 0]]))
    del pairs
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.searchsorted(key, (np.arange(n, dtype=np.int64) + 1) * n)
    return cid, Links(offsets, (key % n).astype(np.int32))


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
    return _distinct_ties(members, block, int(rng.binomial(pairs_between, p)), rng)


def _distinct_ties(members: np.ndarray, block: np.ndarray, want: int, rng: np.random.Generator) -> np.ndarray:
    """`want` distinct pairs of members in different groups, drawn uniformly, as (low, high) rows
    in order. Pairs are drawn in batches; each batch adds, in the order drawn, the distinct pairs
    not yet tied, until there are `want`. A tie is kept as one int64 key (low * m + high): a set
    of tuples took about 140 bytes a tie, 1.7 GB at 2M people with 20 ties each."""
    n, m = len(members), len(block)
    got = np.zeros(0, np.int64)  # the keys so far, sorted
    while len(got) < want:
        a = members[rng.integers(n, size=2 * (want - len(got)) + 8)]
        b = members[rng.integers(n, size=len(a))]
        across = block[a] != block[b]
        a, b = a[across], b[across]
        key = np.minimum(a, b).astype(np.int64) * m + np.maximum(a, b)
        _, first = np.unique(key, return_index=True)
        new = key[np.sort(first)]  # distinct, in the order drawn
        new = new[~np.isin(new, got)][:want - len(got)]
        got = np.union1d(got, new)
    return np.stack([got // m, got % m], 1)


def _vehicles(n: int, r: random.Random) -> dict[str, np.ndarray]:
    """Distinct registration marks, drawn until there are n."""
    seen: set[str] = set()
    make_model, colour, vrm = array("b"), array("b"), bytearray()
    # Drawn as indexes: choice draws only on the length, so the same draws as the tuples'.
    models, colours = range(len(vocab.VEHICLES)), range(len(vocab.COLOURS))
    while len(seen) < n:
        mark = _vrm(r)
        if mark in seen:
            continue
        seen.add(mark)
        vrm += mark.encode().ljust(VRM_BYTES, b"\0")
        make_model.append(r.choice(models))
        colour.append(r.choice(colours))
    return {"vrm": _fixed(vrm, VRM_BYTES), "make_model": np.frombuffer(make_model, np.int8),
            "colour": np.frombuffer(colour, np.int8)}


def _phones(n: int, r: random.Random) -> np.ndarray:
    """Distinct mobile numbers, drawn until there are n; held as their last nine digits."""
    seen: set[int] = set()
    out = array("i")
    while len(out) < n:
        x = r.randrange(100_000_000, 1_000_000_000)
        if x not in seen:
            seen.add(x)
            out.append(x)
    return np.frombuffer(out, np.int32)


def _owned(n: int, n_people: int, r: random.Random) -> Links:
    """Each of n things, in order, given to a person drawn at random: each person's, in order."""
    owner = np.fromiter((r.randrange(n_people) for _ in range(n)), np.int64, n)
    return Links.group(owner, np.arange(n), n_people)


def build_world(spec: CorpusSpec, pools: Pools, rng: np.random.Generator) -> World:
    addresses = _addresses(spec, pools, rng)
    people = _people(spec, pools, rng, spec.addresses)
    n_comm, associates = _communities(spec, people, rng)
    r = _scalar_rng(rng)
    vehicles = _vehicles(spec.vehicles, r)
    phones = _phones(spec.phones, r)
    # Each vehicle, then each phone, given to a person drawn at random.
    vehicles_of = _owned(spec.vehicles, spec.people, r)
    phones_of = _owned(spec.phones, spec.people, r)
    events, event_people = _events(spec, people, associates, vehicles_of, phones_of, rng)
    return World(pools, people, associates, vehicles_of, phones_of, vehicles, phones, addresses, events,
                 event_people)


def _events(spec: CorpusSpec, people: dict[str, np.ndarray], associates: Links, vehicles_of: Links,
            phones_of: Links, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Links]:
    """Events as columns. Each array numpy draws (as int64 or float64) is narrowed as soon as it
    is drawn: at 10M records, 4.5 million events, each int64 column is 36 MB."""
    types = EVENT_TYPE_NAMES
    n_people, n_vehicles, n_addr = len(people["dob"]), spec.vehicles, spec.addresses
    span = (spec.dates.end - spec.dates.start).days
    # Prolific offenders: a Zipf-like activity weight so a few people have many records.
    activity = rng.pareto(1.5, n_people) + 1
    activity /= activity.sum()
    leads = weighted_choice(rng, activity, spec.events)
    del activity
    # Every per-event draw made at once with numpy (seven uniforms an event, row by row, as
    # one (7, n) draw made them), each kept only as the coin it decides.
    n = spec.events
    with_associates = rng.random(n) < 0.6
    at_home = rng.random(n) < 0.3
    own_vehicle = rng.random(n) < 0.6
    other_vehicle = rng.random(n) < 0.1
    own_phone = rng.random(n) < 0.5
    victim_coin = rng.random(n) < 0.7
    weapon_coin = rng.random(n) < 0.6
    etype = rng.integers(len(types), size=n).astype(np.int8)
    mo_sizes = np.array([len(vocab.EVENT_TYPES[t]) for t in types], np.int8)[etype]
    mo_a = (rng.random(n) * mo_sizes).astype(np.int8)
    mo_b = (mo_a + 1 + (rng.random(n) * (mo_sizes - 1)).astype(np.int8)) % mo_sizes
    del mo_sizes
    other_addr = rng.integers(n_addr, size=n).astype(np.int32)
    other_veh = rng.integers(max(1, n_vehicles), size=n).astype(np.int32)
    victim_of = rng.integers(n_people, size=n).astype(np.int32)
    weapon_of = rng.integers(len(vocab.WEAPONS), size=n).astype(np.int8)
    days = rng.integers(span + 1, size=n).astype(np.int32)
    r = _scalar_rng(rng)
    # Some leads offend with some of those they are tied to: the only per-event draws left,
    # made in event order.
    extra_n = np.zeros(n, np.int8)
    extra = array("i")
    picked, lead = _read(extra_n), _read(leads)
    for e in _read(np.flatnonzero(with_associates & (associates.counts()[leads] > 0))):
        near = associates.of(lead[e])
        k = r.randint(0, min(3, len(near)))
        picked[e] = k
        extra.extend(r.sample(near, k))
    sizes = extra_n + np.int8(1)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    group = np.empty(offsets[-1], np.int32)
    is_lead = np.zeros(offsets[-1], bool)
    is_lead[offsets[:-1]] = True
    group[is_lead] = leads
    group[~is_lead] = np.frombuffer(extra, np.int32)
    del is_lead, extra
    event_people = Links(offsets, group)
    # Event types as indexes: which of them have victims, which weapons.
    has_victim = np.isin(types, ("robbery", "assault", "burglary", "fraud", "theft"))[etype]
    armed = np.isin(types, ("robbery", "assault", "weapons"))[etype]
    victim = np.where(has_victim & victim_coin, victim_of, NONE).astype(np.int32)
    # No one is the victim of an event they took part in.
    victim[np.logical_or.reduceat(group == np.repeat(victim, sizes), offsets[:-1])] = NONE
    veh_first = vehicles_of.first().astype(np.int32)[leads]
    phone_first = phones_of.first().astype(np.int32)[leads]
    vehicle = np.where(own_vehicle & (veh_first != NONE), veh_first,
                       np.where((n_vehicles > 0) & other_vehicle, other_veh, NONE)).astype(np.int32)
    events = {
        "type": etype, "date": spec.dates.start.toordinal() + days,
        "address": np.where(at_home, people["address"][leads], other_addr).astype(np.int32),
        "victim": victim, "vehicle": vehicle,
        "phone": np.where(own_phone & (phone_first != NONE), phone_first, NONE).astype(np.int32),
        "weapon": np.where(armed & weapon_coin, weapon_of, NONE).astype(np.int8),
        "mo_a": mo_a, "mo_b": mo_b.astype(np.int8)}
    return events, event_people
