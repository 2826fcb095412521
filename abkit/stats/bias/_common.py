"""Constants shared by the :mod:`abkit.stats.bias` submodules."""

from __future__ import annotations

from typing import Literal

from ..results import EffectEstimate


#: label of the comparison facet ``a`` when each group is compared with all other rows
REST = "<rest>"
Method = Literal["delta", "bootstrap"]
_NONE_EE = EffectEstimate(None, None, None, None)
#: bootstrap intervals are withheld when more than this share of replicates is undefined
_MAX_UNDEFINED_SHARE = 0.01
