"""The configuration as a whole: current, saved versions, restoring one, and the audit trail."""

from __future__ import annotations

import asyncio

from aiohttp import web

from kernel.http import request as read
from kernel.http.errors import ApiError, Problem, not_found
from kernel.http.openapi import Param
from kernel.http.request import MAX_INT
from routing.api import request_io as io
from routing.api.changes import Change, load
from routing.api.deps import DEPS
from routing.api.operations import Operation, Query
from routing.api.schemas import (
    AuditOut,
    ChangeOut,
    ConfigOut,
    RestoreBody,
    VersionDetailOut,
    VersionOut,
)
from routing.config import RoutingConfig
from routing.serialize import to_document
from routing.store import AuditAction, AuditChange, AuditRecord, VersionInfo

_LIMIT = Query("limit", "how many, newest first (1-500, default 50)",
               {"type": "integer", "minimum": 1, "maximum": 500})  # fmt: skip
_VERSION = Param("version", "path", "a saved version's number",
                 {"type": "integer", "minimum": 1, "maximum": MAX_INT})
_PATH = Query("path", "only entries whose path starts with this, e.g. `agents/` or "
              "`queues/claims`", {"type": "string"})  # fmt: skip


def operations() -> list[Operation]:
    return [
        Operation("GET", "/config", get_config, "The configuration in force, with its version",
                  "versions", response=ConfigOut),
        Operation("GET", "/versions", list_versions, "Saved versions, newest first", "versions",
                  response=VersionOut, many=True, errors=(400,), query=(_LIMIT,)),
        Operation("GET", "/versions/{version}", get_version, "One saved version", "versions",
                  response=VersionDetailOut, errors=(400, 404), path_params=(_VERSION,)),
        Operation("POST", "/versions/{version}/restore", restore,
                  "Make a saved version current again (as a new version) and apply it",
                  "versions", body=RestoreBody, response=ChangeOut, if_match=True,
                  errors=(400, 404, 409, 422), path_params=(_VERSION,)),
        Operation("GET", "/audit", list_audit, "Who changed what, newest first", "audit",
                  response=AuditOut, many=True, errors=(400,), query=(_LIMIT, _PATH)),
    ]  # fmt: skip


async def get_config(request: web.Request) -> web.Response:
    config, version = await load(request.app[DEPS])
    return io.reply({"version": version, "config": to_document(config)}, version=version)


async def list_versions(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    limit = read.query_int(request, "limit", 50, 500)
    async with asyncio.timeout(deps.db_timeout_s):
        infos = await deps.store.versions(limit)
    current = infos[0].version if infos else 0
    return io.reply({"version": current, "items": [_version(v) for v in infos]}, version=current)


async def get_version(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    number = _number(request)
    async with asyncio.timeout(deps.db_timeout_s):
        found = await deps.store.get(number)
    if found is None:
        raise not_found(f"version {number}", "path.version")
    return io.reply({**_version(found.info), "config": to_document(found.config)})


async def restore(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    number = _number(request)
    sent = await read.optional_body(request, RestoreBody)
    async with asyncio.timeout(deps.db_timeout_s):
        found = await deps.store.get(number)
    if found is None:
        raise not_found(f"version {number}", "path.version")
    restored = found.config

    def build(config: RoutingConfig) -> Change:
        if config.version == number:
            raise ApiError(409, "conflict", f"version {number} is the current version",
                           [Problem("path.version", "already current")])
        audit = AuditChange(AuditAction.RESTORE, "config", to_document(config),
                            to_document(restored))
        return Change(restored, (audit,), sent.comment or f"restore version {number}",
                      restored_from=number)  # fmt: skip

    return io.saved_reply(await io.commit_request(request, build))


async def list_audit(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    limit = read.query_int(request, "limit", 50, 500)
    prefix = request.query.get("path", "")
    async with asyncio.timeout(deps.db_timeout_s):
        records = await deps.store.audit(limit, prefix)
    _, version = await load(deps)
    return io.reply({"version": version, "items": [_audit(r) for r in records]})


def _number(request: web.Request) -> int:
    return read.path_int(request, "version", "a version number")


def _version(info: VersionInfo) -> dict[str, object]:
    return {"version": info.version, "created_at": info.created_at,
            "created_by": info.created_by, "comment": info.comment,
            "restored_from": info.restored_from}  # fmt: skip


def _audit(record: AuditRecord) -> dict[str, object]:
    return {"id": record.id, "at": record.at, "actor": record.actor, "role": record.role,
            "action": record.action.value, "path": record.path, "before": record.before,
            "after": record.after, "version": record.version}  # fmt: skip
