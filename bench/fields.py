"""The field model shared by the compiler and every backend: what each indexed document holds,
and the normalisers that make query values and indexed values comparable. Phonetic keys and
nickname sets are computed here, at index time, with jellyfish and the nicknames package."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import jellyfish
from nicknames import NickNamer

EPOCH = dt.date(1970, 1, 1)
SCOPES = ("record", "person", "vehicle", "phone", "location")
PHONETIC = {"soundex": jellyfish.soundex, "metaphone": jellyfish.metaphone, "nysiis": jellyfish.nysiis}
_NICK = NickNamer()
_MISREAD_CANON = str.maketrans({"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2"})

# field name -> kind: keyword (exact term), int (range-able integer), text (analysed words),
# float (stored coordinate). Multi-valued where a document can carry several.
FIELDS: dict[str, str] = {
    "scope": "keyword", "rnum": "int", "date": "int", "event_date": "int",
    "source": "keyword", "offence": "keyword",
    "forename": "keyword", "surname": "keyword", "forename_nick": "keyword", "initial": "keyword",
    **{f"{part}_{algo}": "keyword" for part in ("forename", "surname") for algo in PHONETIC},
    "dob": "int", "sex": "keyword", "person_key": "keyword",
    "vrm": "keyword", "vrm_misread": "keyword", "make": "keyword", "colour": "keyword",
    "phone": "keyword",
    "postcode": "keyword", "district": "keyword", "street": "text", "lat_e6": "int", "lon_e6": "int",
    "narrative": "text", "all_text": "text",
}


# Fields held by record documents; all others are held by mention documents.
RECORD_FIELDS = ("event_date", "source", "offence", "narrative", "all_text")
RECORD_NAMES = ["rnum", "date", *RECORD_FIELDS]
MENTION_NAMES = [n for n in FIELDS if n not in RECORD_FIELDS]
WORD = re.compile(r"[a-z0-9]+")  # what tantivy's `default` tokenizer keeps, lower-cased


def words(text: str) -> list[str]:
    """Text as the free-text index sees it, for every backend alike."""
    return WORD.findall(text.lower())


def query_words(text: str) -> list[str]:
    """The distinct words of a free-text query, in order (a repeated word must not count twice)."""
    return list(dict.fromkeys(words(text)))


def norm(s: str | None) -> str:
    """Case-folded letters and digits only: what a structured system compares."""
    return re.sub(r"[^a-z0-9]", "", (s or "").lower())


@lru_cache(maxsize=200_000)
def phonetic_key(algo: str, name: str) -> str:
    n = re.sub(r"[^a-z]", "", name.lower())
    return PHONETIC[algo](n) if n else ""


@lru_cache(maxsize=200_000)
def nickname_set(name: str) -> tuple[str, ...]:
    """A forename and the canonical names it may be short for (Bill -> bill, william)."""
    n = norm(name)
    if not n:
        return ()
    return tuple(sorted({n} | {norm(c) for c in _NICK.canonicals_of(n)}))


def vrm_norm(v: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (v or "").upper())


def wild_norm(value: str, upper: bool = False, digits: bool = False) -> str:
    """A value as a need asks for it, its wildcards * and ? kept: letters and digits (digits only,
    for a number), in lower case or upper. Every profile kind asks with the same value."""
    out = re.sub(r"[^0-9*?]" if digits else r"[^A-Za-z0-9*?]", "", value)
    return out.upper() if upper else out.lower()


def vrm_canon(v: str) -> str:
    """Look-alike characters folded together (O->0, I->1, B->8, S->5, Z->2)."""
    return v.translate(_MISREAD_CANON)


def days(d: str | dt.date | None) -> int | None:
    if not d:
        return None
    if isinstance(d, str):
        return _iso_days(d)
    return (d - EPOCH).days


@lru_cache(maxsize=100_000)
def _iso_days(d: str) -> int:
    """Indexing reads a few million dates among a few thousand distinct days."""
    return (dt.date.fromisoformat(d) - EPOCH).days


def swapped(d: dt.date) -> dt.date | None:
    if d.day > 12 or d.day == d.month:
        return None
    return d.replace(day=d.month, month=d.day)


def district(postcode: str | None) -> str:
    pc = (postcode or "").strip().upper()
    if " " in pc:
        return pc.split()[0]
    compact = vrm_norm(pc)
    # An outward code without its space: the inward part is always digit + two letters.
    return compact[:-3] if len(compact) >= 5 and compact[-3].isdigit() else compact


def person_key(p: dict) -> str:
    """A written person as a structured system keys a nominal: soundex surname, forename, DOB."""
    return "|".join((phonetic_key("soundex", p.get("surname") or ""), norm(p.get("forename")),
                     p.get("dob") or ""))


def flatten(rec: dict) -> str:
    """Everything a record holds, as words: what a free-text platform indexes."""
    parts = [rec.get("source", ""), rec.get("type", ""), rec.get("offence", ""), rec.get("date", ""),
             rec.get("event_date") or "",
             rec.get("text", ""), rec.get("grading", "")]
    for p in rec.get("people", ()):
        parts += [p.get("forename") or "", p.get("middle") or "", p.get("surname") or "", p.get("dob") or ""]
    for v in rec.get("vehicles", ()):
        parts += [v.get("vrm") or "", v.get("make") or "", v.get("model") or "", v.get("colour") or ""]
    parts += [t.get("number") or "" for t in rec.get("phones", ())]
    for loc in rec.get("locations", ()):
        parts += [loc.get("address") or "", loc.get("borough") or "", loc.get("postcode") or ""]
    parts += [o.get("description") or "" for o in rec.get("objects", ())]
    return " ".join(x.replace("_", " ") for x in parts if x)


def docs_for_record(rec: dict, rnum: int) -> list[dict]:
    """One record document plus one document per mention, each keyed by the record number."""
    return [record_doc(rec, rnum)] + mention_docs(rec, rnum)


def record_doc(rec: dict, rnum: int) -> dict:
    """`date`: when the record was written; `event_date`: when the event happened as the record
    gives it (absent where it gives none, and in imported records, which know no events)."""
    d = {"rnum": rnum, "date": days(rec["date"]), "scope": "record", "source": rec["source"],
         "offence": rec.get("offence") or "", "narrative": rec.get("text", ""), "all_text": flatten(rec)}
    if rec.get("event_date"):
        d["event_date"] = days(rec["event_date"])
    return d


def mention_docs(rec: dict, rnum: int) -> list[dict]:
    return person_docs(rec, rnum) + object_docs(rec, rnum)


@lru_cache(maxsize=200_000)
def _name_fields(forename: str, surname: str) -> dict:
    """The fields a written name gives, computed once per distinct spelling (a million records
    mention a few hundred thousand): read only, each document copies it."""
    d = {"forename": norm(forename), "surname": norm(surname), "forename_nick": list(nickname_set(forename))}
    d["initial"] = d["forename"][:1]
    for algo in PHONETIC:
        d[f"forename_{algo}"] = phonetic_key(algo, forename)
        d[f"surname_{algo}"] = phonetic_key(algo, surname)
    return d


def person_docs(rec: dict, rnum: int) -> list[dict]:
    base = {"rnum": rnum, "date": days(rec["date"]), "scope": "person"}
    out: list[dict] = []
    for p in rec.get("people", ()):
        names = _name_fields(p["forename"] or "", p["surname"] or "")
        dob = p.get("dob")
        # person_key(p), from the parts already computed
        d = {**base, **names, "sex": p.get("sex") or "",
             "person_key": f"{names['surname_soundex']}|{names['forename']}|{dob or ''}"}
        if dob:
            d["dob"] = days(dob)
        out.append(d)
    return out


def object_docs(rec: dict, rnum: int) -> list[dict]:
    base = {"rnum": rnum, "date": days(rec["date"])}
    out: list[dict] = []
    for v in rec.get("vehicles", ()):
        vrm = vrm_norm(v["vrm"])
        out.append({**base, "scope": "vehicle", "vrm": vrm, "vrm_misread": vrm_canon(vrm),
                    "make": norm(v.get("make")), "colour": norm(v.get("colour"))})
    for t in rec.get("phones", ()):
        out.append({**base, "scope": "phone", "phone": re.sub(r"\D", "", t["number"] or "")})
    for loc in rec.get("locations", ()):
        d = {**base, "scope": "location", "postcode": vrm_norm(loc.get("postcode")),
             "district": district(loc.get("postcode")), "street": loc.get("address") or ""}
        if loc.get("lat") is not None:
            d["lat_e6"], d["lon_e6"] = round(loc["lat"] * 1e6), round(loc["lon"] * 1e6)
        out.append(d)
    return out
