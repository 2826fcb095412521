"""SageMaker endpoint configurations: ``aws sagemaker describe-endpoint-config`` output read
into its production and shadow variants, the intended split and the shadow sampling share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..stats.results import Diagnostic
from .aws_json import _load

__all__ = ["EndpointConfig", "VariantConfig", "read_endpoint_config"]


@dataclass(frozen=True)
class VariantConfig:
    """One production or shadow variant of an endpoint configuration.

    ``weight`` is ``InitialVariantWeight``; the SageMaker API reference (ProductionVariant)
    says it defaults to 1.0 when unspecified, and so does this reader.
    """

    name: str
    model_name: str | None
    weight: float
    instance_type: str | None
    instance_count: int | None


@dataclass(frozen=True)
class EndpointConfig:
    """An endpoint configuration: variants, the intended split and the shadow sampling.

    Attributes
    ----------
    intended_split : dict or None
        Production variant -> its weight divided by the sum of the production weights
        (the API reference: "the traffic to a production variant is determined by the
        ratio of the VariantWeight to the sum of all VariantWeight values across all
        ProductionVariants"). ``None`` when every weight is 0 (diagnostic
        ``ALL_WEIGHTS_ZERO``).
    shadow_sampling : dict
        Shadow variant -> its weight divided by the sum of the production weights: the
        share of production requests copied to it, as we read SageMaker's shadow variants
        (the weight ratio; the API reference says only that shadow variants get
        "production traffic replicated from the model specified on ProductionVariants", so
        this ratio is an interpretation, not a quoted rule). A value above 1 gets the
        diagnostic ``SHADOW_WEIGHT_ABOVE_PRODUCTION``. The raw weights are in ``shadow``.
    """

    name: str | None
    production: tuple[VariantConfig, ...]
    shadow: tuple[VariantConfig, ...]
    intended_split: dict[str, float] | None
    shadow_sampling: dict[str, float]
    data_capture: dict[str, Any] | None
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def v(x: VariantConfig) -> dict[str, Any]:
            return {"name": x.name, "model_name": x.model_name, "weight": x.weight,
                    "instance_type": x.instance_type, "instance_count": x.instance_count}

        return {"name": self.name, "production": [v(x) for x in self.production],
                "shadow": [v(x) for x in self.shadow], "intended_split": self.intended_split,
                "shadow_sampling": self.shadow_sampling,
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def _variants(doc: dict, key: str, path: Path, required: bool) -> list[VariantConfig]:
    raw = doc.get(key)
    if raw is None:
        if required:
            raise InputError(f"{path}: no {key} list",
                             "give the output of `aws sagemaker describe-endpoint-config`")
        return []
    if not isinstance(raw, list) or (required and not raw):
        raise InputError(f"{path}: {key} must be a non-empty list of variants")
    out = []
    for i, v in enumerate(raw):
        where = f"{path}: {key}[{i}]"
        if not isinstance(v, dict):
            raise InputError(f"{where} is not an object")
        name = v.get("VariantName")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{where}.VariantName is missing or empty")
        w = v.get("InitialVariantWeight", 1.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) \
                or w < 0:
            raise InputError(f"{where}.InitialVariantWeight is {w!r}; expected a number >= 0")
        n = v.get("InitialInstanceCount")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise InputError(f"{where}.InitialInstanceCount is {n!r}; expected a whole "
                             "number >= 0")
        model = v.get("ModelName")
        itype = v.get("InstanceType")
        out.append(VariantConfig(name, str(model) if model is not None else None, float(w),
                                 str(itype) if itype is not None else None, n))
    return out


def read_endpoint_config(path: str | Path) -> EndpointConfig:
    """Read ``aws sagemaker describe-endpoint-config`` JSON output.

    Keys read: ``EndpointConfigName``, ``ProductionVariants`` (required, non-empty),
    ``ShadowProductionVariants`` (optional), each with ``VariantName`` (required),
    ``ModelName``, ``InitialVariantWeight`` (default 1.0, must be >= 0),
    ``InitialInstanceCount``, ``InstanceType``; ``DataCaptureConfig`` is kept as given.
    Malformed files raise InputError naming the file and the key. See
    :class:`EndpointConfig` for the intended split and the shadow sampling share.
    """
    p = Path(path)
    doc = _load(p, "endpoint configuration (describe-endpoint-config)")
    prod = _variants(doc, "ProductionVariants", p, True)
    shadow = _variants(doc, "ShadowProductionVariants", p, False)
    names = [v.name for v in prod + shadow]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{p}: variant name(s) {', '.join(dup)} occur more than once",
                         "variant names must be unique within an endpoint configuration")
    name = doc.get("EndpointConfigName")
    if name is not None and not isinstance(name, str):
        raise InputError(f"{p}: EndpointConfigName is not a string")
    dc = doc.get("DataCaptureConfig")
    if dc is not None and not isinstance(dc, dict):
        raise InputError(f"{p}: DataCaptureConfig is not an object")
    diags = []
    total = sum(v.weight for v in prod)
    if total > 0:
        split = {v.name: v.weight / total for v in prod}
        sampling = {v.name: v.weight / total for v in shadow}
    else:
        split = None
        sampling = {}
        diags.append(Diagnostic("ALL_WEIGHTS_ZERO", "every production variant has weight "
                                "0, so the intended split is undefined"))
    over = [k for k, s in sampling.items() if s > 1]
    if over:
        diags.append(Diagnostic("SHADOW_WEIGHT_ABOVE_PRODUCTION",
                                f"shadow variant(s) {', '.join(over)} weigh more than the "
                                "production variants together"))
    return EndpointConfig(name, tuple(prod), tuple(shadow), split, sampling, dc, tuple(diags))
