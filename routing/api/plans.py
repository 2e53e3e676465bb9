"""A queue's routing plan on its own: read it, replace it, lint it."""

from __future__ import annotations

import dataclasses

from aiohttp import web
from pydantic import ConfigDict, RootModel

from kernel.http import request as read
from kernel.http.errors import not_found
from routing.api import request_io as io
from routing.api.changes import Change, lint, load
from routing.api.deps import DEPS
from routing.api.operations import Operation
from routing.api.schemas import ChangeOut, LintOut, PlanStepBody
from routing.config import PlanStep, Queue, RoutingConfig
from routing.serialize import decode, encode_all
from routing.store import AuditAction, AuditChange


class PlanBody(RootModel[tuple[PlanStepBody, ...]]):
    """The ordered steps of one queue's plan."""

    model_config = ConfigDict(strict=True, frozen=True)


def operations() -> list[Operation]:
    return [
        Operation("GET", "/queues/{queue_id}/plan", get_plan, "Get a queue's routing plan",
                  "plans", response=PlanBody, errors=(404,)),
        Operation("PUT", "/queues/{queue_id}/plan", put_plan, "Replace a queue's routing plan",
                  "plans", body=PlanBody, response=ChangeOut, if_match=True,
                  errors=(400, 404, 409, 422)),
        Operation("GET", "/plans/{queue_id}/lint", lint_queue,
                  "Lint a queue's plan in the current configuration", "plans",
                  response=LintOut, errors=(404,)),
    ]  # fmt: skip


def _queue(config: RoutingConfig, queue_id: str) -> tuple[int, Queue]:
    for i, queue in enumerate(config.queues):
        if queue.queue_id == queue_id:
            return i, queue
    raise not_found(f"queue {queue_id!r}", "path.queue_id")


async def get_plan(request: web.Request) -> web.Response:
    config, version = await load(request.app[DEPS])
    _, queue = _queue(config, request.match_info["queue_id"])
    return io.reply(encode_all(queue.plan), version=version)


async def put_plan(request: web.Request) -> web.Response:
    queue_id = request.match_info["queue_id"]
    sent = await read.body(request, PlanBody)
    plan = tuple(decode(PlanStep, s.model_dump(mode="json", exclude_unset=True))
                 for s in sent.root)  # fmt: skip
    where = f"queues/{queue_id}/plan"

    def build(config: RoutingConfig) -> Change:
        i, queue = _queue(config, queue_id)
        queues = (*config.queues[:i], dataclasses.replace(queue, plan=plan),
                  *config.queues[i + 1:])  # fmt: skip
        before, after = encode_all(queue.plan), encode_all(plan)
        return Change(dataclasses.replace(config, queues=queues),
                      (AuditChange(AuditAction.UPDATE, where, before, after),),
                      f"update {where}", {"queue_id": queue_id, "plan": after},
                      f"queues[{i}].plan")  # fmt: skip

    return io.saved_reply(await io.commit_request(request, build))


async def lint_queue(request: web.Request) -> web.Response:
    config, version = await load(request.app[DEPS])
    i, queue = _queue(config, request.match_info["queue_id"])
    mine = (f"queues[{i}].", f"queues[{i}]", "vips[")
    findings = [f for f in lint(config) if f.path.startswith(mine)]
    return io.reply({"queue_id": queue.queue_id, "version": version,
                     "findings": [{"severity": f.severity, "field": f.path, "message": f.message}
                                  for f in findings]}, version=version)  # fmt: skip
