"""Ids held as one fixed-width bytes array and found by binary search, for the query stage on a
large corpus: the truth's entity and record ids (bench.queries.compact) and the record numbers of
the written records (bench.queries.records). A dict of a million ids costs about 100 MB; this
costs the ids' bytes and an int32 each."""

from __future__ import annotations

import numpy as np


def narrow(a: np.ndarray) -> np.ndarray:
    """Integers as int32 where they fit (positions and counts below 2**31, as in any corpus this
    machine holds): half the memory of int64."""
    if a.dtype != np.int32 and (not len(a) or (int(a.min()) >= -2**31 and int(a.max()) < 2**31)):
        return a.astype(np.int32)
    return a


class SortedIds:
    """Index of an id in `ids` (UTF-8 bytes, none ending in NUL: numpy's fixed-width bytes drop
    it, so such an id would be found as another), -1 where absent."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        self.order = narrow(np.argsort(ids, kind="stable"))
        self.sorted = ids[self.order]

    def __len__(self) -> int:
        return len(self.ids)

    def duplicated(self) -> bool:
        """Whether some id is given twice."""
        return bool(len(self.sorted) and (self.sorted[1:] == self.sorted[:-1]).any())

    def find(self, key: object) -> int:
        """Index of one id (a str); -1 where absent or not a string."""
        if not isinstance(key, str):
            return -1
        b = key.encode()
        j = int(self.sorted.searchsorted(b))
        return int(self.order[j]) if j < len(self.sorted) and self.sorted[j] == b else -1

    def find_all(self, keys: np.ndarray) -> np.ndarray:
        """Index of each id of a bytes array (none ending in NUL); -1 where absent."""
        width = self.sorted.dtype.itemsize
        if keys.dtype.itemsize > width:  # a key longer than every id is absent; cut short it could match
            out = np.full(len(keys), -1, self.order.dtype)
            fits = np.char.str_len(keys) <= width
            out[fits] = self.find_all(keys[fits].astype(self.sorted.dtype))
            return out
        keys = keys.astype(self.sorted.dtype, copy=False)
        if not len(self.sorted):
            return np.full(len(keys), -1, self.order.dtype)
        j = np.minimum(np.searchsorted(self.sorted, keys), len(self.sorted) - 1)
        return np.where(self.sorted[j] == keys, self.order[j], -1).astype(self.order.dtype, copy=False)
