"""Which columns name a family of runs, and each run's family key.

A runs table may pool several families (model families, the arms of a comparison, data sets):
checks that compare runs with each other (units, pooled fits) must compare runs within one
family only.

>>> import pandas as pd
>>> frame = pd.DataFrame({"run": ["a", "b", "c"], "arm": ["x", "x", "y"], "family": ["f", "f", "f"]})
>>> family_key(frame).tolist()
['f|x', 'f|x', 'f|y']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["GROUP_COLUMNS", "family_key"]

#: Columns that name a family of runs when they vary between runs (``arm``, ``architecture``,
#: ``recipe``, ...: the arms of a comparison, see ``scalinglab compare``).
GROUP_COLUMNS = (
    "family",
    "arm",
    "arch",
    "architecture",
    "recipe",
    "variant",
    "scaled_set",
    "model_type",
    "suite",
    "group",
)


def family_key(frame: pd.DataFrame) -> pd.Series:
    """One string per row joining the values of the family-like columns present ('' when none)."""
    present = [c for c in GROUP_COLUMNS if c in frame]
    if not present:
        return pd.Series("", index=frame.index)
    key = frame[present[0]].astype(str)
    for col in present[1:]:
        key = key + "|" + frame[col].astype(str)
    return key
