"""Constants that scaling-law papers report, ready to predict with.

Each entry is a frozen :class:`PublishedLaw`: a registered law (``law``), its
parameter values (``params``), the constants as printed in the paper
(``constants``), the units of every input and of the target, the source
(paper + table/equation) and a confidence tag from the project's reference
sheet (``"C2"``: two or more independent sources agree; ``"C1"``: one full-text
transcription plus an internal consistency check).  The entries are defined
beside their laws; this module is the catalogue (``scalinglab.published``
re-exports it).

Units are explicit and differ between papers:

* N is **non-embedding** parameters in Kaplan, Henighan and Hernandez, **total**
  parameters in Hoffmann/Besiroglu.
* D is tokens (Kaplan, Hoffmann) but **characters** of Python in Hernandez
  (input ``finetune_data``).
* C is **PF-days** in Kaplan and Henighan (1 PF-day = 1e15 * 86400 =
  8.64e19 FLOPs): pass ``pf_days=`` / ``C=``, or ``flops=`` which is converted
  with :data:`PF_DAY_FLOPS`.
* Losses are nats/token of each paper's own data and tokenizer; never compare
  absolute losses across papers.

Keys: ``hoffmann2022``, ``hoffmann2022_unrounded``, ``besiroglu2024``,
``kaplan2020_{n,d,c,cmin,nd,ns,bcrit,overfit_data}``,
``kaplan2020_frontier_{n,d,b,s,d_eq67}``, ``henighan2020_<domain>_{n,c,nopt}``,
``henighan2020_<resolution>_per_image_c``, ``hernandez2021_{text,mixture}_python``.
``list_published()`` lists them all.

Examples
--------
>>> from scalinglab import published
>>> round(published.get("hoffmann2022").predict(params=1e9, tokens=2e10), 4)
2.58
>>> round(published.get("kaplan2020_frontier_n").predict(flops=8.64e19) / 1e9, 2)
1.3
>>> f"{published.get('hernandez2021_text_python').predict(finetune_data=1e6, params=1e8):.4g}"
'2.505e+08'
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType

from scalinglab.errors import InvalidParameterError
from scalinglab.laws import _chinchilla, _kaplan, _power, _transfer
from scalinglab.laws._published import PF_DAY_FLOPS, PublishedLaw, to_flops, to_pf_days

__all__ = ["PublishedLaw", "get", "list_published", "PF_DAY_FLOPS", "to_pf_days", "to_flops"]

_ENTRIES: tuple[PublishedLaw, ...] = _chinchilla.PUBLISHED + _kaplan.PUBLISHED + _power.PUBLISHED + _transfer.PUBLISHED
_BY_KEY: Mapping[str, PublishedLaw] = MappingProxyType({e.key: e for e in _ENTRIES})
assert len(_BY_KEY) == len(_ENTRIES), "duplicate published keys"


def get(key: str) -> PublishedLaw:
    """The published law with this key.

    Raises
    ------
    InvalidParameterError
        Unknown key (the message suggests close matches).

    Examples
    --------
    >>> get("besiroglu2024").params["E"]
    1.8172
    """
    if isinstance(key, str) and key in _BY_KEY:
        return _BY_KEY[key]
    close = difflib.get_close_matches(str(key), list(_BY_KEY), n=3, cutoff=0.5)
    raise InvalidParameterError(
        f"published.get(): unknown key {key!r}",
        hint=(f"did you mean {', '.join(close)}? " if close else "") + "list_published() lists every key",
    )


def list_published(contains: str | None = None, *, confidence: str | None = None) -> tuple[PublishedLaw, ...]:
    """All published laws, optionally those whose key contains ``contains`` or with a given confidence.

    Examples
    --------
    >>> [e.key for e in list_published("hernandez")]
    ['hernandez2021_text_python', 'hernandez2021_mixture_python']
    """
    return tuple(
        e
        for e in _ENTRIES
        if (contains is None or contains in e.key) and (confidence is None or e.confidence == confidence)
    )
