"""Compile a neutral need for a profile: keep what the profile can express, and record what it
had to drop or weaken, with the reason. That record is the measured 'functionality lost'.
A profile never sees the truth: compiling reads the need and the profile only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterable

from bench import fields as F
from bench.plans import (All, Any, Clause, Fuzzy, GeoRadius, Intersect, Linked, Lost, Node, Plan, Range,
                         Regex, Resolve, Scoped, Sequence, Term, Terms, Text, Union_, nodes_of)
from bench.profiles.model import Profile, ProfileSet
from bench.queries.model import Need, PersonCriteria

REFERENCE_DATE = dt.date(2024, 7, 1)  # ages are turned into DOB ranges as at this date


class _Compiler:
    def __init__(self, profile: Profile, resolved: dict[str, Node | None] | None = None):
        self.p = profile
        self.lost: list[Lost] = []
        # Person, vehicle and phone criteria searched by another kind's nodes (a reference
        # profile's entity resolution) instead of by the profile's fields.
        self.resolved = {k: v for k, v in (resolved or {}).items() if v is not None}

    def lose(self, criterion: str, capability: str, effect: str, reason: str) -> None:
        self.lost.append(Lost(criterion, capability, effect, reason))  # type: ignore[arg-type]

    # ---- names

    def _wild(self, field: str, index_field: str, value: str, crit: str) -> Clause | None:
        """A value with * or ?: a regex where the profile has wildcards, a prefix where only
        prefixes (a trailing *), otherwise nothing."""
        if "?" not in value and "*" not in value:
            return None
        core = value.rstrip("*")
        if self.p.has(field, "wildcard"):
            return Regex(index_field, _wild_regex(value))
        if self.p.has(field, "prefix") and "*" not in core and "?" not in core:
            return Regex(index_field, re.escape(core) + ".*")
        self.lose(crit, "wildcard", "dropped", f"{crit}: wildcards are not supported; criterion ignored")
        return False  # type: ignore[return-value]

    def name(self, part: str, value: str | None) -> Clause | None:
        field, crit = f"person.{part}", f"person.{part}"
        if not value:
            return None
        if field not in self.p.fields:
            self.lose(crit, "field_scope", "dropped", f"{crit}: not a searchable field; ignored")
            return None
        if "*" in value or "?" in value:
            return self._wild(field, part, F.wild_norm(value), crit) or None
        n = F.norm(value)
        alts: list[Clause] = [Term(part, n)] if self.p.has(field, "exact") or self.p.has(field, "prefix") else []
        spec = self.p.fields[field]
        if "phonetic" in spec.modes:
            alts.append(Term(f"{part}_{spec.phonetic}", F.phonetic_key(spec.phonetic, value)))
        else:
            self.lose(crit, "phonetic", "weakened", f"{crit}: no phonetic matching; spelling variants missed")
        if "fuzzy" in spec.modes:
            alts.append(Fuzzy(part, n, spec.fuzzy_distance or 1))
        if part == "forename":
            if "nickname" in spec.modes:
                alts.append(Terms("forename_nick", F.nickname_set(value)))
            else:
                self.lose(crit, "nickname", "weakened", f"{crit}: no nickname equivalence (William/Bill)")
            if "initial" in spec.modes:
                alts.append(Term("forename", n[:1]))
        if not alts:  # e.g. wildcards only, and a whole name given
            self.lose(crit, "exact", "dropped", f"{crit}: whole names cannot be searched here, only patterns; ignored")
            return None
        return alts[0] if len(alts) == 1 else Any(tuple(alts))

    def dob(self, c: PersonCriteria) -> Clause | None:
        crit = "person.dob"
        if not (c.dob or c.dob_from or c.dob_to or c.age_min is not None or c.age_max is not None):
            return None
        if "person.dob" not in self.p.fields:
            self.lose(crit, "field_scope", "dropped", "date of birth: not a searchable field; ignored")
            return None
        if c.dob:
            d = F.days(c.dob)
            if c.dob_tolerance_days and self.p.has(crit, "tolerance"):
                clause: Clause = Range("dob", d - c.dob_tolerance_days, d + c.dob_tolerance_days)
            elif not self.p.has(crit, "exact"):
                self.lose(crit, "exact", "dropped", "date of birth: a single date cannot be searched here; ignored")
                return None
            else:
                if c.dob_tolerance_days:
                    self.lose(crit, "tolerance", "weakened",
                              f"date of birth: tolerance ±{c.dob_tolerance_days} days not supported; exact date only")
                clause = Term("dob", d)
            sw = F.swapped(c.dob)
            if self.p.has(crit, "transposition"):
                if sw:
                    clause = Any((clause, Term("dob", F.days(sw))))
            elif sw:
                self.lose(crit, "transposition", "weakened", "date of birth: day/month transposition not matched")
            return clause
        lo, hi = c.dob_window(REFERENCE_DATE)
        if not self.p.has(crit, "range"):
            self.lose(crit, "range", "dropped", "date of birth range / age: not supported; ignored")
            return None
        return Range("dob", F.days(lo) if lo else -10**6, F.days(hi) if hi else 10**6)

    def person(self, c: PersonCriteria) -> Clause | None:
        names: list[Clause] = []
        extra_names: tuple[tuple[str | None, str | None], ...] = ()
        if c.alias and len(c.alias.split()) >= 2:  # an alias is searched as another name
            fore, sur = c.alias.split(" ", 1)
            extra_names = ((fore, sur),)
        elif c.alias:
            self.lose("person.alias", "alias", "dropped", "street name: no alias field in a structured nominal search")
        for fore, sur in ((c.forename, c.surname),) + extra_names:
            parts = [x for x in (self.name("surname", sur), self.name("forename", fore)) if x]
            if parts:
                names.append(parts[0] if len(parts) == 1 else All(tuple(parts)))
        clauses = [Any(tuple(names)) if len(names) > 1 else names[0]] if names else []
        d = self.dob(c)
        if d:
            clauses.append(d)
        if c.sex:
            if self.p.has("person.sex", "exact"):
                clauses.append(Term("sex", c.sex))
            else:
                self.lose("person.sex", "field_scope", "dropped", "sex: not searchable; ignored")
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else All(tuple(clauses))

    # ---- objects and places

    def keyword(self, field: str, index_field: str, value: str | None, normed: str) -> Clause | None:
        if not value:
            return None
        if field not in self.p.fields:
            self.lose(field, "field_scope", "dropped", f"{field}: not a searchable field; ignored")
            return None
        if "*" in value or "?" in value:
            return self._wild(field, index_field, normed, field) or None
        if not self.p.has(field, "exact"):
            self.lose(field, "exact", "dropped", f"{field}: whole values cannot be searched here, only partial ones; ignored")
            return None
        return Term(index_field, normed)

    def vehicle(self, need: Need) -> Clause | None:
        v = need.vehicle
        vrm = self.keyword("vehicle.vrm", "vrm", v.vrm, F.wild_norm(v.vrm or "", upper=True))
        if vrm and self.p.has("vehicle.vrm", "misread"):
            canon = F.vrm_canon(F.wild_norm(v.vrm, upper=True))
            mis = Regex("vrm_misread", _wild_regex(canon)) if "*" in canon or "?" in canon else Term("vrm_misread", canon)
            vrm = Any((vrm, mis))
        elif vrm:
            self.lose("vehicle.vrm", "misread", "weakened", "registration: look-alike characters (0/O, 1/I) not folded")
        if vrm and self.p.has("vehicle.vrm", "fuzzy") and "*" not in v.vrm and "?" not in v.vrm:
            spec = self.p.fields["vehicle.vrm"]
            vrm = Any((*(vrm.clauses if isinstance(vrm, Any) else (vrm,)),
                       Fuzzy("vrm", F.wild_norm(v.vrm, upper=True), spec.fuzzy_distance or 1)))
        parts = [x for x in (vrm, self.keyword("vehicle.make", "make", v.make, F.norm(v.make)),
                             self.keyword("vehicle.colour", "colour", v.colour, F.norm(v.colour))) if x]
        return None if not parts else parts[0] if len(parts) == 1 else All(tuple(parts))

    def location(self, need: Need) -> list[Node]:
        loc, out = need.location, []
        if loc.point:
            if self.p.has("location.point", "geo_radius"):
                out.append(Scoped("location", GeoRadius(loc.point.lat, loc.point.lon, loc.radius_m)))
            else:
                self.lose("location.point", "geo_radius", "dropped", "radius search not supported; place ignored")
        for field, idx, value, normed in (
                ("location.postcode", "postcode", loc.postcode, F.wild_norm(loc.postcode or "", upper=True)),
                ("location.district", "district", loc.district, (loc.district or "").upper())):
            c = self.keyword(field, idx, value, normed)
            if c:
                out.append(Scoped("location", c))
        if loc.street:
            if self.p.has("location.street", "text"):
                out.append(Scoped("location", Text("street", loc.street, "and")))
            else:
                self.lose("location.street", "field_scope", "dropped", "street: not searchable; ignored")
        return out

    def event(self, need: Need) -> list[Node]:
        e, out = need.event, []
        if e.types:
            if self.p.has("event.type", "exact"):
                out.append(Scoped("record", Terms("offence", tuple(e.types))))
            else:
                self.lose("event.type", "field_scope", "dropped", "offence type: not searchable; ignored")
        if e.date_from or e.date_to:
            if self.p.has("event.date", "range"):
                # A need's window is when the event happened (as the judge reads it); a system
                # that searches the date records were written misses events written up later.
                field = "event_date" if self.p.fields["event.date"].date_of == "event" else "date"
                if field == "date":
                    self.lose("event.date", "event_date", "weakened", "date window: searches the date records "
                              "were written, not when the event happened; later write-ups missed")
                out.append(Scoped("record", Range(field, F.days(e.date_from) if e.date_from else -10**6,
                                                  F.days(e.date_to) if e.date_to else 10**6)))
            else:
                self.lose("event.date", "range", "dropped", "date window: not supported; ignored")
        if e.terms:
            if self.p.has("event.terms", "text"):
                out.append(Scoped("record", Text("narrative", " ".join(e.terms), "and")))
            else:
                self.lose("event.terms", "text", "dropped", "MO free text: not searchable here; ignored")
        return out

    # ---- whole needs

    def structured(self, need: Need) -> Node | None:
        parts: list[Node] = []
        if need.association:
            seed = self.person(need.association.of)
            if seed and self.p.has("links", "link_hops"):
                hops = need.association.hops
                max_hops = self.p.fields["links"].max_hops or 1
                if hops > max_hops:
                    self.lose("links", "link_hops", "weakened", f"links: {hops} hops asked, {max_hops} possible")
                parts.append(self.held(need.association.include,
                                       Linked(Scoped("person", seed), min(hops, max_hops), ("person_key",))))
            elif seed:
                self.lose("links", "link_hops", "dropped", "links: associates cannot be traversed; "
                                                           "only the person's own records are searched")
                self.lose_include(need)
                parts.append(Scoped("person", seed))
            else:
                self.lose("links", "link_hops", "dropped", "links: nothing searchable about the person to start from")
                self.lose_include(need)
        elif need.person:
            parts.append(self.resolved.get("person") or _scoped("person", self.person(need.person)))
        if need.vehicle:
            parts.append(self.resolved.get("vehicle") or _scoped("vehicle", self.vehicle(need)))
        if need.phone:
            parts.append(self.resolved.get("phone") or _scoped("phone", self.keyword(
                "phone.number", "phone", need.phone.number, F.wild_norm(need.phone.number, digits=True))))
        parts = [x for x in parts if x is not None]
        if need.location:
            parts += self.location(need)
        if need.event:
            parts += self.event(need)
        at = self.addresses(need)
        if not parts:
            return at
        root = parts[0] if len(parts) == 1 else Intersect(tuple(parts))
        return Union_((root, at)) if at else root

    def addresses(self, need: Need) -> Node | None:
        """A requester's address as a second way to their records: records at that postcode naming
        someone of their surname (the name, DOB or forename written differently there). An analyst
        confirming identity by address, as a subject access search does (assumed)."""
        if not need.addresses:
            return None
        if "location.postcode" not in self.p.fields:
            self.lose("addresses", "field_scope", "dropped", "addresses: postcodes are not searchable; the "
                                                             "requester's address is not used")
            return None
        postcodes = tuple(dict.fromkeys(F.vrm_norm(a.rsplit(",", 1)[-1]) for a in need.addresses if "," in a))
        surname = self.name("surname", need.person.surname) if need.person and need.person.surname else None
        if not postcodes or not surname:
            self.lose("addresses", "field_scope", "dropped",
                      "addresses: no postcode after a comma, or no surname to look for there; not used")
            return None
        at = Term("postcode", postcodes[0]) if len(postcodes) == 1 else Terms("postcode", postcodes)
        return Intersect((Scoped("person", surname), Scoped("location", at)))

    # What associates hold: links as recorded run person to person, so the associates' vehicles
    # and phones are those written in the associates' own records. A system that linked objects
    # would also find the records of those objects without them.
    HELD = {"vehicles": ("vehicle", Regex("vrm", ".+")), "phones": ("phone", Regex("phone", ".+"))}

    def held(self, include: str, linked: Linked) -> Node:
        if include == "people":
            return linked
        if include == "addresses":
            self.lose("association.include", "link_objects", "weakened", "links: the associates' home addresses "
                      "are not linked in the records; the associates' own records are searched instead")
            return linked
        self.lose("association.include", "link_objects", "weakened", f"links: the associates' {include} as "
                  f"their own records give them; records of those {include} without them are missed")
        scope, any_value = self.HELD[include]
        return Intersect((linked, Scoped(scope, any_value)))

    def lose_include(self, need: Need) -> None:
        include = need.association.include if need.association else "people"
        if include != "people":
            self.lose("association.include", "link_hops", "dropped",
                      f"links: the associates' {include} cannot be reached; the person's own records instead")

    def free_text(self, need: Need) -> Node | None:
        """Everything becomes words: no fields, no ranges, no radius. The strategy decides how
        the words of each criterion are combined (see profiles.model.FreeText)."""
        groups = self._word_groups(need)
        ft = self.p.free_text
        words = [w for g in groups for alt in g for w in alt]
        if not words:
            return None
        if ft.strategy == "naive":
            return Scoped("record", Text(ft.field, " ".join(words), "or"))
        return _all_of(ft.field, groups)

    def formulations(self, need: Need) -> list[Node]:
        """incremental: the first criterion, then each next one added, narrowest last."""
        groups = self._word_groups(need)
        return [_all_of(self.p.free_text.field, groups[:i]) for i in range(1, len(groups) + 1)]

    def _word_groups(self, need: Need) -> list[list[list[str]]]:
        """The need's criteria as the analyst would type them, in the order they know them
        (who, what, where, what happened): each a list of alternatives, each a list of words."""
        groups: list[list[list[str]]] = []
        self.lose("scope", "field_scope", "weakened", "no field or entity scope: words match anywhere in a record")
        person = need.association.of if need.association else need.person
        if need.association:
            self.lose("links", "link_hops", "dropped", "links: no link traversal in free text; the person's words only")
            self.lose_include(need)
        if need.addresses:
            self.lose("addresses", "field_scope", "dropped", "addresses: one free-text query cannot say 'or at "
                                                             "this address'; the requester's address is not used (assumed)")
        if person:
            name = [x for x in (person.forename, person.surname) if x]
            alts = [name] if name else []
            for part in ("surname", "forename"):
                if getattr(person, part):
                    self.lose(f"person.{part}", "phonetic", "weakened",
                              f"person.{part}: words match as spelled; spelling variants missed")
            if person.forename:
                self.lose("person.forename", "nickname", "weakened", "person.forename: no nickname equivalence (William/Bill)")
            if person.alias:
                alts.append(person.alias.split())
            if alts:
                groups.append(alts)
            if person.dob or person.dob_from or person.dob_to or person.age_min or person.age_max:
                self.lose("person.dob", "field_scope", "dropped", "date of birth: no DOB field in free text; ignored")
            if person.sex:
                self.lose("person.sex", "field_scope", "dropped", "sex: no field in free text; ignored")
        if need.vehicle:
            for name, value in (("vehicle.vrm", need.vehicle.vrm), ("vehicle.make", need.vehicle.make),
                                ("vehicle.colour", need.vehicle.colour)):
                if value and (w := self._visible_words(name, value)):
                    groups.append([w])
        if need.phone and (w := self._visible_words("phone.number", need.phone.number)):
            groups.append([w])
        if need.location:
            loc = need.location
            if loc.point:
                self.lose("location.point", "geo_radius", "dropped", "radius search: places are only words; ignored")
            groups += [[x.split()] for x in (loc.postcode, loc.district, loc.street) if x]
        if need.event:
            if need.event.types:
                groups.append([t.split("_") for t in need.event.types])
            groups += [[t.split()] for t in need.event.terms]
            if need.event.date_from or need.event.date_to:
                self.lose("event.date", "range", "dropped", "date window: dates are only words; ignored")
        return groups

    def _visible_words(self, crit: str, value: str) -> list[str]:
        if "*" in value or "?" in value:
            self.lose(crit, "wildcard", "weakened", f"{crit}: wildcards not supported; the visible part searched as a word")
        return [w for w in re.split(r"[*?\s]+", value) if w]


def _scoped(scope: str, clause: Clause | None) -> Scoped | None:
    return Scoped(scope, clause) if clause else None


def _all_of(field: str, groups: list[list[list[str]]]) -> Scoped:
    """Every criterion must match: the words of one alternative ANDed, alternatives ORed."""
    clauses: list[Clause] = []
    for alts in groups:
        texts = [Text(field, " ".join(words), "and") for words in alts]
        clauses.append(texts[0] if len(texts) == 1 else Any(tuple(texts)))
    return Scoped("record", clauses[0] if len(clauses) == 1 else All(tuple(clauses)))


def _wild_regex(value: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in value)


def compile_need(need: Need, profile: Profile, profiles: ProfileSet | None = None) -> Plan:
    """The plan a profile runs for a need, and what it lost doing so: each kind of profile
    compiles by its own rule (KINDS)."""
    return KINDS[profile.kind](need, profile, profiles)


def compile_plans(need: Need, names: Iterable[str], profiles: ProfileSet) -> dict[str, Plan]:
    """The plans of one need for these profiles, each profile compiled once: a union's members
    are the very plans compiled for those profiles (a run searches them, then merges their lists
    into the union's), not compiled again for every union that holds them."""
    plans: dict[str, Plan] = {}
    return {name: _compiled(name, need, profiles, plans) for name in names}


def _compiled(name: str, need: Need, profiles: ProfileSet, plans: dict[str, Plan]) -> Plan:
    """A profile's plan for the need, kept in `plans` with its members'. A function of its own, not
    a closure calling itself: that closure would be a reference cycle holding the need and its
    plans, which only the cyclic collector frees, and a run paused it while measuring (a few KB a
    need kept until the run's end, for the plans compiled to say what excluded a missed record)."""
    if name not in plans:
        p = profiles[name]
        plans[name] = _merged(p, [_compiled(m, need, profiles, plans) for m in p.union_of]) if p.kind == "union" \
            else compile_need(need, p, profiles)
    return plans[name]


def _union(need: Need, profile: Profile, profiles: ProfileSet | None) -> Plan:
    if profiles is None:
        raise ValueError("compiling a union profile needs the ProfileSet holding its members")
    return _merged(profile, [compile_need(need, profiles[m], profiles) for m in profile.union_of])


def _merged(profile: Profile, members: list[Plan]) -> Plan:
    """A union profile's plan from its members' plans, in the order its analyst reads them."""
    # A capability on a criterion is lost by the union when every member lost it or dropped
    # the criterion altogether (a member that ignores a date of birth has no DOB tolerance
    # either); then as mildly as the mildest member lost it. Matching on capability alone let
    # a criterion every member dropped, each for its own reason, vanish from the union's list.
    caps = [{(x.criterion, x.capability) for x in m.lost} for m in members]
    dropped = [{x.criterion for x in m.lost if x.effect == "dropped"} for m in members]
    best: dict[tuple[str, str], Lost] = {}
    for m in members:
        for x in m.lost:
            key = (x.criterion, x.capability)
            if not all(key in c or x.criterion in d for c, d in zip(caps, dropped)):
                continue
            if not all(x.criterion in d for d in dropped):  # some member searched it
                x = Lost(x.criterion, x.capability, "weakened", x.reason)
            if key not in best or (best[key].effect == "dropped" and x.effect == "weakened"):
                best[key] = x
    lost = tuple(best.values())
    live = tuple(m for m in members if m.root is not None)
    root = Sequence(live) if live else None
    return Plan(root, "given", profile.result_cap, lost)


def _reference(need: Need, profile: Profile, profiles: ProfileSet | None) -> Plan:
    """Entity criteria by entity resolution; the rest of the need by the profile's fields."""
    from bench.profiles import reference  # the kind's own module

    resolved, lost = reference.resolve_nodes(need, profile.reference, REFERENCE_DATE)
    c = _Compiler(profile, resolved)
    c.lost += lost
    root = c.structured(need)
    # The cap counts candidate entries, so it holds for lists grouped by entity resolution only;
    # what is searched as the fields say (places, events, links) is shown whole, as the baseline does.
    cap = profile.result_cap if root is not None and nodes_of(root, Resolve) else None
    return Plan(root, profile.order, cap, tuple(dict.fromkeys(c.lost)))


def _engine(need: Need, profile: Profile, profiles: ProfileSet | None) -> Plan:
    c = _Compiler(profile)
    root = c.free_text(need) if profile.kind == "free_text" else c.structured(need)
    lost = tuple(dict.fromkeys(c.lost))  # keep order, drop repeats
    ft = profile.free_text
    if profile.kind == "free_text" and ft.strategy == "incremental" and root is not None:
        plan = None  # built narrowest first, so each step can point at the next
        for node in reversed(c.formulations(need)):
            plan = Plan(node, profile.order, profile.result_cap, lost, plan, ft.narrow_above if plan else None)
        return plan
    return Plan(root, profile.order, profile.result_cap, lost)


# Each kind of profile and the rule that compiles a need for it: a new kind is a module, a YAML
# file and an entry here.
KINDS: dict[str, Callable[[Need, Profile, ProfileSet | None], Plan]] = {
    "structured": _engine, "free_text": _engine, "union": _union, "reference": _reference}
