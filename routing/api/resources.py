"""Skills, agents, queues and VIPs: list, get, create, replace, merge-patch and delete.

The four collections behave alike, so one set of handlers serves them, parameterised by a
`Collection`. Each change is a pure function of the current configuration (`Change`), run
by `changes.commit`; problems in the sent resource are named `body.…`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kernel.http import request as read
from kernel.http.errors import ApiError, Problem, invalid, not_found
from routing.api import request_io as io
from routing.api.changes import Change, load
from routing.api.deps import DEPS
from routing.api.operations import Handler, Operation
from routing.api.schemas import (
    AgentBody,
    Body,
    ChangeOut,
    QueueBody,
    SkillBody,
    VipBody,
)
from routing.config import Agent, Queue, RoutingConfig, Skill, Vip
from routing.serialize import DocumentError, decode, encode, encode_all
from routing.store import AuditAction, AuditChange


@dataclass(frozen=True, slots=True)
class Collection:
    name: str  # the URL segment and the RoutingConfig attribute
    id_field: str  # also the URL parameter
    label: str
    kind: type
    body: type[Body]

    def items(self, config: RoutingConfig) -> tuple[Any, ...]:
        return tuple(getattr(config, self.name))

    def index(self, config: RoutingConfig, item_id: str) -> int | None:
        found = (i for i, v in enumerate(self.items(config)) if self.id_of(v) == item_id)
        return next(found, None)

    def id_of(self, item: object) -> str:
        return str(getattr(item, self.id_field))

    def with_items(self, config: RoutingConfig, items: tuple[Any, ...]) -> RoutingConfig:
        changes: dict[str, Any] = {self.name: items}
        return dataclasses.replace(config, **changes)

    def path(self, item_id: str) -> str:
        return f"{self.name}/{item_id}"


COLLECTIONS = (
    Collection("skills", "skill_id", "skill", Skill, SkillBody),
    Collection("agents", "agent_id", "agent", Agent, AgentBody),
    Collection("queues", "queue_id", "queue", Queue, QueueBody),
    Collection("vips", "caller_number", "VIP caller", Vip, VipBody),
)


def operations(c: Collection) -> list[Operation]:
    one = f"/{c.name}/{{{c.id_field}}}"
    tag = c.name
    return [
        Operation("GET", f"/{c.name}", _list(c), f"List {c.name}", tag, response=c.body,
                  many=True),
        Operation("POST", f"/{c.name}", _create(c), f"Create a {c.label}", tag, body=c.body,
                  response=ChangeOut, status=201, if_match=True, errors=(400, 409, 422)),
        Operation("GET", one, _get(c), f"Get a {c.label}", tag, response=c.body, errors=(404,)),
        Operation("PUT", one, _replace(c), f"Replace a {c.label}", tag, body=c.body,
                  response=ChangeOut, if_match=True, errors=(400, 404, 409, 422)),
        Operation("PATCH", one, _patch(c), f"Change fields of a {c.label} (merge patch; "
                  "null sets a field to null)", tag, body=c.body, response=ChangeOut,
                  if_match=True, errors=(400, 404, 409, 422)),
        Operation("DELETE", one, _delete(c), f"Delete a {c.label}", tag, response=ChangeOut,
                  if_match=True, errors=(404, 409, 422)),
    ]  # fmt: skip


def _list(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        config, version = await load(request.app[DEPS])
        return io.reply({"version": version, "items": encode_all(c.items(config))},
                        version=version)

    return handler


def _get(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        config, version = await load(request.app[DEPS])
        item_id = request.match_info[c.id_field]
        i = c.index(config, item_id)
        if i is None:
            raise not_found(f"{c.label} {item_id!r}", f"path.{c.id_field}")
        return io.reply(encode(c.items(config)[i]), version=version)

    return handler


def _create(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item = _domain(c, await read.body(request, c.body))
        item_id = c.id_of(item)

        def build(config: RoutingConfig) -> Change:
            if c.index(config, item_id) is not None:
                raise ApiError(409, "conflict", f"{c.label} {item_id!r} exists; PUT replaces it",
                               [Problem(f"body.{c.id_field}", "already exists")])
            items = c.items(config)
            return Change(c.with_items(config, (*items, item)),
                          (AuditChange(AuditAction.CREATE, c.path(item_id), None, encode(item)),),
                          f"create {c.path(item_id)}", encode(item), f"{c.name}[{len(items)}]")

        saved = await io.commit_request(request, build)
        location = f"{request.path.rstrip('/')}/{item_id}"
        return io.saved_reply(saved, status=201, location=location)

    return handler


def _replace(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item_id = request.match_info[c.id_field]
        raw = await read.json_body(request)
        if isinstance(raw, dict):
            raw = {c.id_field: item_id, **raw}
        item = _domain(c, _same_id(c, item_id, read.validate(c.body, raw)))
        build = _updating(c, item_id, lambda _: item)
        return io.saved_reply(await io.commit_request(request, build))

    return handler


def _patch(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item_id = request.match_info[c.id_field]
        patch = await read.json_body(request)
        if not isinstance(patch, dict):
            raise invalid([Problem("body", "a merge patch is a JSON object")])

        def patched(before: object) -> object:
            merged = merge_patch(encode(before), patch)
            return _domain(c, _same_id(c, item_id, read.validate(c.body, merged)))

        build = _updating(c, item_id, patched)
        return io.saved_reply(await io.commit_request(request, build))

    return handler


def _delete(c: Collection) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        item_id = request.match_info[c.id_field]

        def build(config: RoutingConfig) -> Change:
            i = _existing(c, config, item_id)
            items = c.items(config)
            before = encode(items[i])
            return Change(c.with_items(config, (*items[:i], *items[i + 1:])),
                          (AuditChange(AuditAction.DELETE, c.path(item_id), before, None),),
                          f"delete {c.path(item_id)}")  # fmt: skip

        return io.saved_reply(await io.commit_request(request, build))

    return handler


def _updating(c: Collection, item_id: str, make: Callable[[object], object]) -> Callable[
        [RoutingConfig], Change]:  # fmt: skip
    def build(config: RoutingConfig) -> Change:
        i = _existing(c, config, item_id)
        items = c.items(config)
        item = make(items[i])
        before, after = encode(items[i]), encode(item)
        return Change(c.with_items(config, (*items[:i], item, *items[i + 1:])),
                      (AuditChange(AuditAction.UPDATE, c.path(item_id), before, after),),
                      f"update {c.path(item_id)}", after, f"{c.name}[{i}]")  # fmt: skip

    return build


def _existing(c: Collection, config: RoutingConfig, item_id: str) -> int:
    i = c.index(config, item_id)
    if i is None:
        raise not_found(f"{c.label} {item_id!r}", f"path.{c.id_field}")
    return i


def _same_id(c: Collection, item_id: str, body: Body) -> Body:
    if getattr(body, c.id_field) != item_id:
        raise invalid([Problem(f"body.{c.id_field}", f"must be {item_id!r} as in the path; "
                               "to rename, create the new one and delete this one")])
    return body


def _domain(c: Collection, body: Body) -> Any:
    try:
        return decode(c.kind, body.model_dump(mode="json", exclude_unset=True))
    except DocumentError as exc:  # the schemas mirror the dataclasses; a drift lands here
        raise invalid([Problem(f"body.{exc.path}", exc.message)]) from exc


def merge_patch(target: object, patch: object) -> object:
    """RFC 7396, except that `null` sets a field to null: every field of a resource is always
    present, so removing one could only mean its default, and `null` is how a supervisor says
    "no exit" or "never announce"."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        merged[key] = None if value is None else merge_patch(merged.get(key), value)
    return merged
