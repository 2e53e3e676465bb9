"""Service configuration: one YAML file, then HOTLINE_* environment overrides.

Every problem is reported as ``<file>: <field path>: <what is wrong>`` and stops startup.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ari_app.calls.desk.model import CODE_PATTERN, DEFAULT_CODES, DispositionCode, DispositionCodes
from ari_app.calls.monitoring.model import ENDPOINT_PATTERN
from kernel.http.auth import NAME_PATTERN, ApiToken, hash_token
from kernel.http.request import NO_CONTROL
from routing.model import AgentConfig, QueueConfig


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AsteriskSettings(_Strict):
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "hotline"
    ari_password: str = "hotline"
    app: str = Field(default="hotline", pattern=r"^[A-Za-z0-9_.-]+$")
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_user: str = "hotline"
    ami_secret: str = "hotline"
    request_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("ari_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def events_url(self) -> str:
        return self.ari_url.replace("http", "ws", 1) + "/events"


class HttpSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Browser pages (scheme://host[:port]) that may open the /v1/events WebSocket; a request
    # with any other Origin is refused (403). Clients that send no Origin are not browsers.
    allowed_origins: tuple[str, ...] = ()
    max_event_subscribers: int = Field(default=50, ge=1, le=10_000)  # beyond: 503

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(f"{origin!r}: an origin is scheme://host[:port], no path")
        return tuple(o.lower() for o in value)

    @property
    def loopback(self) -> bool:
        """Bound to this host only (then cookies need not be Secure, dev tokens are fine)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class AuthSettings(_Strict):
    """Browser sessions and logins (`ari_app/access/`)."""

    session_idle_s: float = Field(default=1800, ge=60)  # ended after this long unused
    session_max_s: float = Field(default=12 * 3600, ge=300)  # and this long after login
    lockout_after: int = Field(default=5, ge=1, le=100)  # failed logins in a row, then
    lockout_s: float = Field(default=900, ge=1)  # refused (429) for this long


MIN_LOG_KEY_CHARS = 16


class LoggingSettings(_Strict):
    """How logs treat personal data (`ari_app/logging.py`)."""

    # The HMAC key personal data in logs is hashed with: the same key joins one caller's lines
    # across restarts; without it each process draws a random one (refused off loopback).
    hmac_key: SecretStr | None = None

    @field_validator("hmac_key", mode="before")
    @classmethod
    def _key(cls, value: object) -> object:
        if value is None or value == "":
            return None  # unset (an empty variable included)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            raise ValueError("must be a string")
        if len(text) < MIN_LOG_KEY_CHARS:  # the key itself is never put in the message
            raise ValueError(f"must have at least {MIN_LOG_KEY_CHARS} characters "
                             "(e.g. `openssl rand -hex 24`)")
        return text


class PromptSettings(_Strict):
    cache_dir: Path = Path("~/.cache/hotline/asterisk-rootfs/var/lib/asterisk/sounds/hotline")
    asterisk_dir: str = "/var/lib/asterisk/sounds/hotline"


class RetentionSettings(_Strict):
    """How long recordings are kept (`recordings/retention/`): days from a recording's start,
    per queue or by default; None keeps them for ever (the default). Held ones are kept."""

    default_days: int | None = Field(default=None, gt=0)
    queues: dict[str, Annotated[int, Field(gt=0)]] = {}
    sweep_every_s: float = Field(default=3600, ge=10)  # how often the sweep deletes what is due


class RecordingSettings(_Strict):
    spool_dir: Path = Path("~/.cache/hotline/asterisk-rootfs/var/spool/asterisk/recording")
    store_dir: Path = Path("var/recordings")
    format: str = Field(default="wav", pattern=r"^(wav|gsm|ulaw|sln16)$")
    # How often the spool and the store are checked against the calls (recordings.reconcile).
    reconcile_every_s: float = Field(default=300, ge=10)
    # snoop: through a snoop channel on the caller, outside the bridge (a two-party bridge,
    # no mixing); bridge: ARI's bridge recording (its recorder makes the bridge mix, softmix).
    method: Literal["bridge", "snoop"] = "snoop"
    # stereo: caller left, agent right (two snoops, merged into one WAV when stored).
    channels: Literal["mono", "stereo"] = "mono"
    retention: RetentionSettings = RetentionSettings()

    @model_validator(mode="after")
    def _stereo_needs_snoop_wav(self) -> RecordingSettings:
        if self.channels == "stereo" and (self.method != "snoop" or self.format != "wav"):
            raise ValueError("channels: stereo needs method: snoop and format: wav")
        return self


class KnowledgeConfig(_Strict):
    """`source`: embedded (the bundled FAQ), http (the knowledge service at `url`) or none."""

    source: Literal["embedded", "http", "none"] = "embedded"
    url: str | None = None
    token: str | None = None
    deadline_s: float = Field(default=0.8, gt=0, le=10)
    faq_file: Path | None = None
    record_file: Path | None = None  # embedded: feedback and unanswered questions, JSON lines
    outbox_file: Path | None = Path("../var/knowledge-outbox.sqlite3")


class SpeechConfig(_Strict):
    """`engine`: pocketsphinx (embedded, no download), vosk (needs `vosk_model_dir`) or none."""

    engine: Literal["pocketsphinx", "vosk", "none"] = "none"
    vosk_model_dir: Path | None = None


class QueueSettings(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    ring_timeout_s: float = Field(default=15, gt=0)
    wrapup_s: float = Field(default=5, ge=0)
    max_wait_s: float | None = Field(default=None, gt=0)


class AgentSettings(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    endpoint: str = Field(pattern=r"^[A-Za-z]+/.+")
    queues: tuple[str, ...] = Field(min_length=1)


class DispositionSettings(_Strict):
    """A code agents close a call with (`ari_app/calls/desk/`): `complaint` counts the call as
    a complaint in the KPI reports; `resolved` says whether the matter was settled (or not)."""

    code: str = Field(pattern=CODE_PATTERN)  # lower-case letters, digits, _ and -
    label: str = Field(min_length=1, max_length=100, pattern=NO_CONTROL)
    complaint: bool = False
    resolved: bool | None = None


DEFAULT_DISPOSITIONS = tuple(DispositionSettings(code=c.code, label=c.label,
                                                 complaint=c.complaint, resolved=c.resolved)
                             for c in DEFAULT_CODES)  # fmt: skip


class MonitoringSettings(_Strict):
    """Supervisors on live calls (`ari_app/calls/monitoring/`): each person's phone (by user
    name or token actor), dialled when a monitor request names none."""

    endpoints: dict[Annotated[str, Field(pattern=NAME_PATTERN, max_length=128)],
                    Annotated[str, Field(pattern=ENDPOINT_PATTERN, max_length=255)]] = {}
    ring_timeout_s: float = Field(default=30, gt=0, le=300)  # the supervisor's phone
    max_per_call: int = Field(default=3, ge=1, le=20)


class Settings(_Strict):
    asterisk: AsteriskSettings = AsteriskSettings()
    database_url: str = "sqlite+aiosqlite:///var/hotline.sqlite3"
    http: HttpSettings = HttpSettings()
    flow: Path = Path("../ivr/flows/hotline.yaml")
    prompts: PromptSettings = PromptSettings()
    recordings: RecordingSettings = RecordingSettings()
    queues: tuple[QueueSettings, ...] = Field(min_length=1)
    agents: tuple[AgentSettings, ...] = ()
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    logging: LoggingSettings = LoggingSettings()
    api_tokens: tuple[ApiToken, ...] = ()
    auth: AuthSettings = AuthSettings()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    speech: SpeechConfig = SpeechConfig()
    monitoring: MonitoringSettings = MonitoringSettings()
    dispositions: tuple[DispositionSettings, ...] = Field(default=DEFAULT_DISPOSITIONS,
                                                          min_length=1, max_length=100)

    @model_validator(mode="after")
    def _dispositions_unique(self) -> Settings:
        seen: set[str] = set()
        for i, disposition in enumerate(self.dispositions):
            if disposition.code in seen:
                raise ValueError(f"dispositions[{i}].code: '{disposition.code}' is listed twice")
            seen.add(disposition.code)
        return self

    @model_validator(mode="after")
    def _agents_serve_known_queues(self) -> Settings:
        known = {q.id for q in self.queues}
        if len(known) != len(self.queues):
            raise ValueError("queues: duplicate queue id")
        if len({a.id for a in self.agents}) != len(self.agents):
            raise ValueError("agents: duplicate agent id")
        secrets = [t.sha256() for t in self.api_tokens
                   if t.token is not None or t.token_sha256 is not None]
        if len(set(secrets)) != len(secrets):
            raise ValueError("api_tokens: the same token is listed twice")
        for i, token in enumerate(self.api_tokens):
            for j, queue in enumerate(token.queues or ()):
                if queue not in known:
                    raise ValueError(f"api_tokens[{i}].queues[{j}]: unknown queue '{queue}'")
        for i, agent in enumerate(self.agents):
            for j, queue in enumerate(agent.queues):
                if queue not in known:
                    raise ValueError(f"agents[{i}].queues[{j}]: unknown queue '{queue}'")
        for queue in self.recordings.retention.queues:
            if queue not in known:
                raise ValueError(f"recordings.retention.queues.{queue}: unknown queue '{queue}'")
        return self

    def queue_configs(self) -> tuple[QueueConfig, ...]:
        return tuple(
            QueueConfig(queue_id=q.id, name=q.name, ring_timeout_s=q.ring_timeout_s,
                        wrapup_s=q.wrapup_s, max_wait_s=q.max_wait_s)
            for q in self.queues
        )

    def disposition_codes(self) -> DispositionCodes:
        return DispositionCodes(DispositionCode(d.code, d.label, d.complaint, d.resolved)
                                for d in self.dispositions)  # fmt: skip

    def agent_configs(self) -> tuple[AgentConfig, ...]:
        return tuple(
            AgentConfig(agent_id=a.id, name=a.name, endpoint=a.endpoint, queues=a.queues)
            for a in self.agents
        )


# Environment overrides: variable -> path in the settings tree.
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "HOTLINE_DATABASE_URL": ("database_url",),
    "HOTLINE_FLOW": ("flow",),
    "HOTLINE_ARI_URL": ("asterisk", "ari_url"),
    "HOTLINE_ARI_USER": ("asterisk", "ari_user"),
    "HOTLINE_ARI_PASSWORD": ("asterisk", "ari_password"),
    "HOTLINE_ARI_APP": ("asterisk", "app"),
    "HOTLINE_AMI_HOST": ("asterisk", "ami_host"),
    "HOTLINE_AMI_PORT": ("asterisk", "ami_port"),
    "HOTLINE_AMI_USER": ("asterisk", "ami_user"),
    "HOTLINE_AMI_SECRET": ("asterisk", "ami_secret"),
    "HOTLINE_HTTP_HOST": ("http", "host"),
    "HOTLINE_HTTP_PORT": ("http", "port"),
    "HOTLINE_RECORDINGS_SPOOL": ("recordings", "spool_dir"),
    "HOTLINE_RECORDINGS_DIR": ("recordings", "store_dir"),
    "HOTLINE_RECORDINGS_METHOD": ("recordings", "method"),
    "HOTLINE_RECORDINGS_CHANNELS": ("recordings", "channels"),
    "HOTLINE_PROMPTS_DIR": ("prompts", "cache_dir"),
    "HOTLINE_PROMPTS_ASTERISK_DIR": ("prompts", "asterisk_dir"),
    "HOTLINE_LOG_LEVEL": ("log_level",),
    "HOTLINE_LOG_HMAC_KEY": ("logging", "hmac_key"),
    "HOTLINE_KNOWLEDGE_URL": ("knowledge", "url"),
    "HOTLINE_KNOWLEDGE_TOKEN": ("knowledge", "token"),
    "HOTLINE_SPEECH_ENGINE": ("speech", "engine"),
    "HOTLINE_VOSK_MODEL": ("speech", "vosk_model_dir"),
}


# A file with the `api_tokens:` list (YAML), replacing the configuration's: a container secret.
TOKENS_FILE_VAR = "HOTLINE_API_TOKENS_FILE"

# Tokens published in this repository (the development configuration, the docs and the tests):
# anyone may know them, so the service refuses them unless it listens on loopback only.
DEVELOPMENT_TOKENS = frozenset(hash_token(t) for t in (
    "dev-supervisor-token-0001", "dev-qa-token-00000000001",  # config/hotline.yaml
    "another-long-random-token-for-qa",  # docs/supervisor-api.md
    "test-supervisor-token-0001", "test-agent-token-00000001",  # tests/e2e
    "test-auditor-token-000001",  # tests/e2e
    "restart-drill-supervisor-token",  # ari_app/devtools/restart_service.py
    "supervisor-token-0001", "qa-token-0000000000001", "a-token-of-sixteen-chars",
    *(f"{role}-token-0000000001" for role in ("supervisor", "qa", "viewer", "agent", "admin",
                                              "auditor")),  # tests/unit
))  # fmt: skip
DEVELOPMENT_SECRETS = ("", "hotline")  # the ARI and AMI defaults


def load_settings(path: Path, env: dict[str, str] | None = None) -> Settings:
    """Read, override from the environment, validate, resolve paths against the file, read
    tokens from their variables and files, and refuse development secrets off loopback."""
    env = dict(os.environ) if env is None else env
    raw = _read_mapping(path)
    _apply_env(raw, env)
    tokens_from = path
    if TOKENS_FILE_VAR in env:
        tokens_from = _resolve(path.parent, Path(env[TOKENS_FILE_VAR]))
        raw["api_tokens"] = _read_yaml(tokens_from)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(path, err) for err in _root_causes(exc))) from None
    settings = _resolve_paths(settings, path.parent)
    settings = _read_tokens(settings, tokens_from, env)
    if problems := public_bind_problems(settings):
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))
    return settings


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def _read_mapping(path: Path) -> dict[str, Any]:
    raw = _read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return raw


def _read_tokens(settings: Settings, where: Path, env: dict[str, str]) -> Settings:
    """Each `token_env` / `token_file` entry read and kept as its hash only."""
    tokens = []
    for i, entry in enumerate(settings.api_tokens):
        field = f"{where}: api_tokens[{i}]"
        if entry.token_env is not None:
            secret = env.get(entry.token_env, "").strip()
            if not secret:
                raise ConfigError(f"{field}.token_env: {entry.token_env} is not set")
        elif entry.token_file is not None:
            file = _resolve(where.parent, entry.token_file)
            try:
                secret = file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{field}.token_file: cannot read {file}: {exc}") from None
        else:
            tokens.append(entry)
            continue
        if len(secret) < 16:
            raise ConfigError(f"{field}: the token must have at least 16 characters")
        tokens.append(entry.model_copy(update={"token_env": None, "token_file": None,
                                               "token_sha256": hash_token(secret)}))
    if len({t.sha256() for t in tokens}) != len(tokens):
        raise ConfigError(f"{where}: api_tokens: the same token is listed twice")
    return settings.model_copy(update={"api_tokens": tuple(tokens)})


def public_bind_problems(settings: Settings) -> list[str]:
    """Why the settings must not serve beyond loopback: tokens anyone can read in this
    repository, ARI/AMI secrets left at their defaults, no key for hashing personal data in
    the logs. Empty when bound to loopback."""
    if settings.http.loopback:
        return []
    why = f"not allowed while http.host is {settings.http.host!r} (not loopback)"
    problems = [f"api_tokens[{i}]: a development token published in this repository; {why}"
                for i, t in enumerate(settings.api_tokens) if t.sha256() in DEVELOPMENT_TOKENS]
    ast = settings.asterisk
    for name, value in (("asterisk.ari_password", ast.ari_password),
                        ("asterisk.ami_secret", ast.ami_secret)):
        if value in DEVELOPMENT_SECRETS:
            problems.append(f"{name}: unset or the default {value!r}; {why}")
    if settings.logging.hmac_key is None:
        problems.append("logging.hmac_key: unset (HOTLINE_LOG_HMAC_KEY, 16+ characters): "
                        f"personal data in the logs would be hashed with a random key; {why}")
    return problems


def _apply_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    for name, keys in ENV_OVERRIDES.items():
        if name in env:
            node = raw
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = env[name]


def _root_causes(exc: ValidationError) -> list[Any]:
    """Drop an error on a field when one of its own items failed: that is the real cause."""
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    return [e for e, loc in zip(errors, locs, strict=True)
            if not any(other[: len(loc)] == loc and len(other) > len(loc) for other in locs)]


def _describe(path: Path, err: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    message = str(err["msg"]).removeprefix("Value error, ")
    # Cross-field checks already name their field path in the message.
    return f"{path}: {where}: {message}" if where else f"{path}: {message}"


def _resolve(base: Path, value: Path) -> Path:
    expanded = Path(os.path.expandvars(str(value))).expanduser()
    return expanded if expanded.is_absolute() else (base / expanded).resolve()


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    return settings.model_copy(update={
        "flow": _resolve(base, settings.flow),
        "prompts": settings.prompts.model_copy(
            update={"cache_dir": _resolve(base, settings.prompts.cache_dir)}),
        "recordings": settings.recordings.model_copy(update={
            "spool_dir": _resolve(base, settings.recordings.spool_dir),
            "store_dir": _resolve(base, settings.recordings.store_dir),
        }),
        "database_url": _resolve_sqlite(base, settings.database_url),
        "knowledge": settings.knowledge.model_copy(update={
            key: _resolve(base, value) for key, value in
            (("faq_file", settings.knowledge.faq_file),
             ("outbox_file", settings.knowledge.outbox_file)) if value is not None}),
        "speech": settings.speech.model_copy(update={
            "vosk_model_dir": _resolve(base, settings.speech.vosk_model_dir)}
            if settings.speech.vosk_model_dir is not None else {}),
    })


def _resolve_sqlite(base: Path, url: str) -> str:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url.removeprefix(prefix)).resolve())
    return url
