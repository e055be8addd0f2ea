"""Every measure in one place: its definition, how it aggregates over needs, which way is better,
and whether per_query.csv has a column for it. The runner, the aggregation, the CSV, the
report's definitions and the gates all read this list, so a new measure is one entry here
(and its computation) rather than a name repeated in five modules."""


from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregate = Literal["mean", "mean_defined", "median_defined", "total", "count", "percentiles", "separate"]


@dataclass(frozen=True)
class Measure:
    name: str
    definition: str
    # mean: over every need; mean_defined: over the needs where it is defined (n says how many);
    # median_defined: median over those, with how many are not ('never'); total / count: summed;
    # percentiles: p50 and p95; separate: its own aggregation (inflation against the baseline)
    aggregate: Aggregate
    better: Literal["higher", "lower", "neither"]
    per_need: bool = True  # a column of per_query.csv


MEASURES: tuple[Measure, ...] = (
    Measure('volume',
            'records returned for the need: what the analyst must at least glance at',
            'mean', 'neither'),
    Measure('precision',
            'share of the returned records that are relevant; undefined for a need that returned '
            "nothing, and such needs are left out of the mean precision, as trec_eval's means leave "
            'out a query with no results (they still count, with recall 0, in the mean recall)',
            'mean_defined', 'higher'),
    Measure('recall',
            'share of the relevant records that were returned',
            'mean', 'higher'),
    Measure('f1',
            'harmonic mean of precision and recall',
            'mean', 'higher'),
    Measure('p_at_10',
            'share of the first 10 records that are relevant',
            'mean', 'higher'),
    Measure('r_at_100',
            'share of the relevant records found in the first 100',
            'mean', 'higher'),
    Measure('ap',
            "average precision over the presented order (trec_eval's map)",
            'mean', 'higher'),
    Measure('ndcg_at_10',
            "graded gain of the first 10 records, normalised (trec_eval's ndcg_cut_10)",
            'mean', 'higher'),
    Measure('examined',
            'records the modelled analyst reads before stopping, in presented order, a page at a '
            "time: an identification need stops at the first relevant record, an 'everything about' "
            'need after a run of pages with nothing relevant or at the read cap, a subject access '
            'request reads all (bench/analyst/behaviour.yaml: every parameter and its source)',
            'mean', 'lower'),
    Measure('recall_at_stop',
            'share of the relevant records the analyst has found when they stop reading',
            'mean', 'higher'),
    Measure('sift_hours',
            'examined x seconds per record / 3600',
            'mean', 'lower'),
    Measure('esl',
            "Cooper's expected search length: non-relevant records read before the first relevant one"
            ' (undefined when the list holds none)',
            'median_defined', 'lower'),
    Measure('rbp',
            "rank-biased precision at the reader's persistence p (Moffat and Zobel 2008)",
            'mean', 'higher'),
    Measure('effort_r80',
            "records read, in presented order, to reach recall 0.8 ('never' when the list cannot)",
            'median_defined', 'lower'),
    Measure('effort_r95',
            "records read, in presented order, to reach recall 0.95 ('never' when the list cannot)",
            'median_defined', 'lower'),
    Measure('searches',
            'searches the analyst issued for the need (more than one when they narrowed a search that'
            ' returned too much)',
            'mean', 'lower'),
    Measure('false_inclusions',
            'records returned that are not about what the need describes (in a subject access '
            "request: other people's records an analyst must exclude before disclosure)",
            'mean', 'lower'),
    Measure('missed',
            'relevant records never returned',
            'total', 'lower'),
    Measure('inflation',
            "volume / the baseline profile's volume for the same need (undefined when the baseline "
            'returns nothing)',
            'separate', 'neither'),
    Measure('latency_ms',
            "wall time of the engine search for this need (a union profile: its members' searches, "
            'made once and shared, plus merging their lists)',
            'percentiles', 'lower'),
    Measure('lost',
            'capabilities the profile could not express for this need (dropped or weakened)',
            'count', 'lower'),
    Measure('returned_nothing',
            'needs for which the profile returned no record at all (left out of the mean precision, '
            'counted in every other mean)',
            'count', 'lower', per_need=False),
)
BY_NAME = {m.name: m for m in MEASURES}
DEFINITIONS = {m.name: m.definition for m in MEASURES}


def named(aggregate: str) -> tuple[str, ...]:
    """The measures that aggregate one way, in registry order."""
    return tuple(m.name for m in MEASURES if m.aggregate == aggregate)

# per_query.csv: who and what a row is about, the counts behind the measures, every per-need
# measure above, then what was lost and why records were missed.
ID_COLUMNS = ("profile", "qid", "kind", "purpose")
TEXT_COLUMNS = ID_COLUMNS + ("lost_capabilities", "missed_by_kind", "error")
PER_QUERY_COLUMNS = (ID_COLUMNS + ("total", "relevant", "found") + tuple(m.name for m in MEASURES if m.per_need)
                     + TEXT_COLUMNS[len(ID_COLUMNS):])
