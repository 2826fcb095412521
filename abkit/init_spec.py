"""``abkit init LOGS``: a commented starter spec, from what the logs show.

It writes what can be read off the data, and says where each value came from:

* the variant column, its labels and their observed shares (or, given a SageMaker endpoint
  configuration, its production variants' weights) as the ``split``;
* the unit column (and whether the log is per unit or per request) and the timestamp column;
* one metric per numeric column, with its kind (0/1 columns are proportions);
* for a canary or linear rollout, the schedule of a SageMaker ``TrafficRoutingConfiguration``
  (or a deployment config holding one) or a CodeDeploy configuration name.

It never guesses what only the user can know: each metric's good direction and margin are
left as the blank ``"FILL IN"``, which ``abkit validate-spec`` (and any run) reports, naming
the key, until it is filled in. Roles start as ``secondary`` in an A/B spec and ``guardrail``
in a rollout's (a rollout gates on guardrails); the comments say how to change them.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InputError
from .fmt import plural
from .infer import numeric_metrics
from .spec.checker import BLANK

__all__ = ["starter_spec"]

#: rows read to detect columns, labels and shares
SAMPLE_ROWS = 200_000

_VARIANT_NAMES = ("variant", "variant_name", "variantname", "arm", "group", "bucket",
                  "treatment_group", "experiment_group", "model_variant")
_UNIT_NAMES = ("unit_id", "user_id", "customer_id", "account_id", "visitor_id", "device_id",
               "session_id", "client_id")
_TIME_NAMES = ("ts", "timestamp", "time", "event_time", "event_timestamp", "created_at",
               "inference_time", "datetime", "date")


def _pick(columns: list[str], given: str | None, names: tuple[str, ...], what: str,
          option: str) -> str | None:
    if given is not None:
        if given not in columns:
            raise InputError(f"no {what} column {given!r}",
                             f"columns: {', '.join(columns)}; check {option}")
        return given
    low = {c.lower(): c for c in columns}
    return next((low[n] for n in names if n in low), None)


def _q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(str(text), ensure_ascii=False)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return _q(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")  # pragma: no cover


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _q(k)


def starter_spec(source: Any, *, strategy: str = "ab", variant_column: str | None = None,
                 unit_column: str | None = None, timestamp_column: str | None = None,
                 control: str | None = None, endpoint_config: Any = None,
                 schedule: Any = None) -> str:
    """The TOML text of a starter spec for ``source`` (an opened
    :class:`~abkit.engine.input.LogInput`); see the module docstring."""
    from .infer import pick_control

    if strategy not in ("ab", "canary", "linear", "bluegreen"):
        raise InputError(f"abkit init writes ab, canary, linear or bluegreen specs, not "
                         f"{strategy!r}", "a shadow spec starts from data/shadow/shadow.toml")
    cols = [str(c) for c in source.columns()]
    sample = source.sample(SAMPLE_ROWS)
    vcol = _pick(cols, variant_column, _VARIANT_NAMES, "variant", "--variant-col")
    if vcol is None:
        raise InputError(f"{source.label}: no variant column found (looked for "
                         f"{', '.join(_VARIANT_NAMES[:4])}, ...)",
                         f"columns: {', '.join(cols)}; pass --variant-col")
    ucol = _pick(cols, unit_column, _UNIT_NAMES, "unit", "--unit-col")
    tcol = _pick(cols, timestamp_column, _TIME_NAMES, "timestamp", "--timestamp-col")
    labels = sample[vcol].dropna().astype(str).str.strip()
    labels = labels[labels != ""]
    counts = labels.value_counts()
    stray = counts[counts < 0.01 * counts.max()]
    counts = counts[counts >= 0.01 * counts.max()]
    if len(counts) < 2:
        raise InputError(f"{source.label}: column {vcol!r} holds {len(counts)} label(s) in "
                         f"the first {len(sample):,} rows; an experiment needs two or more",
                         "check --variant-col")
    lines = [f"# Starter spec written by `abkit init` from {source.label}.",
             f"# Read off the first {len(sample):,} rows. Fill in every \"{BLANK}\" (abkit "
             "validate-spec names each one),", "# then check the rest.", ""]
    for v, n in stray.items():
        lines.append(f"# label {str(v)!r} ({plural(int(n), 'row')}) is left out: under 1 % of "
                     "the largest arm, likely a typo or test traffic")
    lines += ["[experiment]",
             f"strategy = {_q(strategy)}", f"variant_column = {_q(vcol)}"]
    names = [str(v) for v in counts.index]
    try:
        ctrl, _ = pick_control(names, control, source.label)
    except InputError:
        if control is not None:
            raise
        ctrl = names[0]  # the most frequent label; the comment asks to check it
        lines.append(f"# control: {ctrl!r} is the most frequent label; check it")
    if endpoint_config is not None:
        from .io.endpoint_config import read_endpoint_config

        cfg = read_endpoint_config(endpoint_config)
        if cfg.intended_split is None:
            raise InputError(f"{endpoint_config}: every production variant has weight 0")
        split = {k: round(v, 6) for k, v in cfg.intended_split.items()}
        split_note = f"# split: the production weights of {endpoint_config}"
    else:
        total = int(counts.sum())
        shares = {str(k): int(n) / total for k, n in counts.items()}
        split = {k: round(v, 4) for k, v in shares.items()}
        split[max(split, key=split.get)] += round(1.0 - sum(split.values()), 4)
        split_note = ("# split: the observed shares ("
                      + ", ".join(f"{k} {plural(int(n), 'row')}" for k, n in counts.items())
                      + "); write the DESIGNED shares if they differ")
    if strategy == "bluegreen":
        others = [v for v in split if v != ctrl]
        lines += [f"blue = {_q(ctrl)}                      # the version before the switch",
                  f"green = {_q(others[0])}                    # the version after it"]
    else:
        lines.append(f"control = {_q(ctrl)}")
    if strategy in ("canary", "linear"):
        cand = [v for v in split if v != ctrl]
        lines.append(f"candidate = {_q(cand[0])}")
    if ucol is not None and strategy == "ab":
        per_request = bool(sample[ucol].duplicated().mean() > 0.01)
        lines.append(f"unit_column = {_q(ucol)}")
        lines.append(f"granularity = {_q('request' if per_request else 'unit')}"
                     + ("   # units repeat: one row per request" if per_request else ""))
    if tcol is not None and strategy != "ab":
        lines.append(f"timestamp_column = {_q(tcol)}")
    elif strategy != "ab":
        lines.append(f"timestamp_column = {_q(BLANK)}   # no time-like column found")
    if strategy in ("canary", "linear"):
        lines.append('look_every = "1m"')
        if schedule is not None:
            from .spec.schedule import parse_schedule

            try:
                parse_schedule(schedule)
            except ValueError as e:
                raise InputError(f"the schedule cannot be read: {e}") from None
            lines.append(f"schedule = {_toml_value(schedule)}")
        elif strategy == "linear":
            lines.append(f"schedule = {_q(BLANK)}   # a CodeDeploy name or a SageMaker "
                         "TrafficRoutingConfiguration (abkit init --schedule reads one)")
        else:
            lines += [split_note, f"split = {_toml_value(split)}"]
    elif strategy == "bluegreen":
        lines.append('# switch_at = "2026-11-20T10:00:00Z"   # the switch (default: the '
                     "first green row)")
    else:
        lines += [split_note, f"split = {_toml_value(split)}"]
    skip = {vcol} | {c for c in (ucol, tcol) if c}
    metrics = numeric_metrics(cols, sample, skip, stray=0.01)
    if not metrics:
        raise InputError(f"{source.label}: no numeric column to use as a metric",
                         "a metric column holds numbers (0/1 for a proportion)")
    # a rollout gates on guardrails; an A/B test starts with every metric reported only
    role = "secondary" if strategy == "ab" else "guardrail"
    for m in metrics:
        lines += ["", "[[metrics]]", f"name = {_q(m['name'])}", f"kind = {_q(m['kind'])}",
                  f"column = {_q(m['column'])}",
                  f"role = {_q(role)}" + " " * (16 - len(role))
                  + '# "primary" drives a GO; "guardrail" must not get worse; "secondary" '
                  "is reported",
                  f'good = {_q(BLANK)}        # "increase" or "decrease": which way is better',
                  f'margin = {_q(BLANK)}      # guardrails only: the harm you accept, '
                  "relative (0.05 = 5 %); delete the line otherwise"]
    return "\n".join(lines) + "\n"

