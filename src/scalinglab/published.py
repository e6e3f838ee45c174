"""Constants that scaling-law papers report, ready to predict with (see :mod:`scalinglab.laws.published`).

The catalogue lives with the laws (each paper's entries beside its law); this
module is its public name.

Examples
--------
>>> from scalinglab import published
>>> published.get("hoffmann2022").law
'chinchilla'
"""

from scalinglab.laws.published import PF_DAY_FLOPS, PublishedLaw, get, list_published, to_flops, to_pf_days

__all__ = ["PublishedLaw", "get", "list_published", "PF_DAY_FLOPS", "to_pf_days", "to_flops"]
