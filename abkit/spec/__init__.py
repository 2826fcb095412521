"""Experiment specs: TOML or YAML files (or dicts) parsed into frozen, validated objects.

Unknown keys are errors, every value is checked once here, and each message names the key
path (``metrics[2].kind``) and the file.

Submodules:

- :mod:`~abkit.spec.model`: the vocabularies (``STRATEGIES``, ``KINDS``, ...) and the spec
  parts ``MetricSpec``, ``RolloutSpec``, ``ShadowSpec``, ``BlueGreenSpec``;
- :mod:`~abkit.spec.checker`: the common value checker ``_Checker`` and small helpers;
- :mod:`~abkit.spec.parse_metrics`: one ``[[metrics]]`` table (A/B and sequential rules);
- :mod:`~abkit.spec.parse_rollout`: the canary/linear keys, durations and schedule;
- :mod:`~abkit.spec.parse_bluegreen`: the blue/green keys;
- :mod:`~abkit.spec.experiment`: ``ExperimentSpec``, ``parse_spec`` (top-level and A/B keys)
  and the shadow-test keys;
- :mod:`~abkit.spec.load`: ``load_spec``, reading ``.toml``/``.yaml``/``.yml`` files (bounded:
  no YAML aliases or duplicate keys, at most 1 MiB and 20 levels of nesting);
- :mod:`~abkit.spec.bounds`: those limits, the schedule/look limits, and ``show`` (values cut
  to 80 characters in messages).
"""

from .checker import _Checker, _label, _strings
from .experiment import (
    _EXPERIMENT_KEYS,
    _SHADOW_KEYS,
    ExperimentSpec,
    _parse_shadow,
    parse_spec,
)
from .load import load_spec
from .model import (
    AGGREGATES,
    CONTROL_NAMES,
    CORRECTIONS,
    GOODS,
    GRANULARITIES,
    INPUT_FORMATS,
    KINDS,
    METHODS,
    ON_REJECTED,
    PLANNED_STRATEGIES,
    ROLES,
    SEQUENTIAL_KINDS,
    SEQUENTIAL_STRATEGIES,
    SHADOW_METRICS,
    SPENDINGS,
    STRATEGIES,
    BlueGreenSpec,
    MetricSpec,
    RolloutSpec,
    ShadowSpec,
)
from .parse_bluegreen import _BLUEGREEN_KEYS, _bad_min_rows, _parse_bluegreen
from .parse_metrics import _METRIC_KEYS, _parse_metric
from .parse_rollout import _ROLLOUT_KEYS, _parse_rollout

__all__ = ["ExperimentSpec", "MetricSpec", "load_spec", "parse_spec"]
