"""Layer-wise relevance propagation (LRP) with Zennit's rules, composites and canonizers.

`lrp(model, images, target, composite=...)` gives signed relevance maps equal to Zennit 0.5.1's
on the same weights; `concept_relevance` conditions them on channels of a layer (CRP);
`relevance_picture` draws them with a diverging colormap centred on zero.
"""

from __future__ import annotations

from .composites import COMPOSITES
from .concept import concept_relevance
from .lrp import lrp
from .pictures import relevance_panel, relevance_picture
from .rules import RULE_NAMES

__all__ = [
    "COMPOSITES",
    "RULE_NAMES",
    "concept_relevance",
    "lrp",
    "relevance_panel",
    "relevance_picture",
]
