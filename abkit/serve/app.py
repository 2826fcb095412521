"""``abkit serve``: the gates of a config file over HTTP, for rollout controllers.

* ``GET /v1/report/<name>``: the report JSON, always 200 (Argo Rollouts' ``web`` metric
  provider, with a ``successCondition`` on ``result.decision``);
* ``GET /v1/gate/<name>`` (or POST, as Flagger's webhooks call it): the same JSON, 200 on GO,
  409 on NO-GO, 425 ("too early") on INCONCLUSIVE (Flagger: any non-2xx fails the check, so
  an INCONCLUSIVE counts toward its failure threshold);
* ``GET /healthz``: ``{"status": "ok", "gates": [...]}``.

A bad spec or unusable logs answer 422 with ``{"error", "hint"}`` (the CLI's exit 2); an
unknown gate 404. Each request re-reads the gate's logs, with a cache keyed on the spec's and
the log files' paths, sizes and modification times, so a growing rollout log is re-analysed
and an unchanged one is not. Only the configured log roots are read
(:meth:`abkit.serve.config.Gate.files`).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..errors import AbkitError
from .config import Gate, load_config

__all__ = ["create_app", "gate_status"]

#: HTTP status of ``/v1/gate/<name>`` by decision
GATE_STATUS = {"go": 200, "no-go": 409, "inconclusive": 425}


def gate_status(decision: str) -> int:
    return GATE_STATUS[decision]


class _Reports:
    """The report JSON of each gate, cached on the input files' (path, size, mtime)."""

    def __init__(self, gates: list[Gate]) -> None:
        self.gates = {g.name: g for g in gates}
        self.cache: dict[str, tuple[tuple, dict[str, Any]]] = {}
        self.lock = threading.Lock()

    @staticmethod
    def _key(gate: Gate, files: list) -> tuple:
        def stamp(p) -> tuple:
            st = os.stat(p)
            return (str(p), st.st_size, st.st_mtime_ns)

        return (stamp(gate.spec),) + tuple(stamp(f) for f in files)

    def report(self, name: str) -> dict[str, Any]:
        from ..pipeline import analyze

        gate = self.gates[name]
        files = gate.files()
        if not files:
            raise AbkitError(f"gate {name}: no log files under {gate.logs}",
                             "check the gate's logs in the serve config")
        key = self._key(gate, files)
        with self.lock:
            hit = self.cache.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
        doc = analyze([str(f) for f in files], gate.spec).to_dict()
        with self.lock:
            self.cache[name] = (key, doc)
        return doc


def create_app(config: str | os.PathLike[str]):
    """The ASGI application (Starlette) serving the gates of ``config``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    reports = _Reports(load_config(config))

    async def _doc(request) -> tuple[int, dict[str, Any]] | JSONResponse:
        name = request.path_params["name"]
        if name not in reports.gates:
            return JSONResponse({"error": f"no gate {name!r}",
                                 "gates": sorted(reports.gates)}, status_code=404)
        try:
            return 200, await run_in_threadpool(reports.report, name)
        except AbkitError as e:
            return JSONResponse({"error": e.message, "hint": e.hint}, status_code=422)

    async def report(request):
        got = await _doc(request)
        return got if isinstance(got, JSONResponse) else JSONResponse(got[1])

    async def gate(request):
        got = await _doc(request)
        if isinstance(got, JSONResponse):
            return got
        doc = got[1]
        return JSONResponse(doc, status_code=gate_status(doc["decision"]))

    async def healthz(request):
        return JSONResponse({"status": "ok", "gates": sorted(reports.gates)})

    return Starlette(routes=[
        # POST too: Flagger calls its webhooks with a POST (its JSON body is ignored)
        Route("/v1/report/{name}", report, methods=["GET", "POST"]),
        Route("/v1/gate/{name}", gate, methods=["GET", "POST"]),
        Route("/healthz", healthz),
    ])
