"""Where a corpus's records came from, as every output must say it: generated corpora are made up
by the generator; an imported record set is as synthetic as its mapping says, and one that is not
may be about real people, which a reader must be told before anything else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    synthetic: bool
    origin: str = "generated"
    licence: str | None = None

    @classmethod
    def of(cls, corpus: dict) -> "Provenance":
        """From a run's `corpus` block or a manifest's fields; a run written before imports
        existed holds only generated corpora."""
        return cls(bool(corpus.get("synthetic", True)), corpus.get("origin") or "generated", corpus.get("licence"))

    @property
    def tag(self) -> str:
        """SYNTHETIC DATA or NOT SYNTHETIC, for titles and banners."""
        return "SYNTHETIC DATA" if self.synthetic else "NOT SYNTHETIC"

    @property
    def short(self) -> str:
        """SYNTHETIC or NOT SYNTHETIC, for table titles."""
        return "SYNTHETIC" if self.synthetic else "NOT SYNTHETIC"

    @property
    def sentence(self) -> str:
        """Where the records came from, in one sentence."""
        if self.origin == "generated":
            return "Every person, vehicle, phone and place in this run was made up by the generator."
        licence = f" (licence: {self.licence})" if self.licence else ""
        if self.synthetic:
            return f"The records were imported from {self.origin}{licence}; their producer made them up."
        return (f"The records were imported from {self.origin}{licence} and may be about real people: "
                f"handle this report as that data must be handled.")

    @property
    def records(self) -> str:
        """How to call the records: "synthetic records" or "records"."""
        return "synthetic records" if self.synthetic else "records"
