"""Machine tokens: kept as hashes only, read from the file, an environment variable or a secret
file, compared by hash; and the service refuses tokens published in this repository and the
default ARI/AMI secrets when it listens beyond loopback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ari_app.access.process_tokens import configured_token, with_process_token
from ari_app.settings import ConfigError, Settings, load_settings, public_bind_problems
from kernel.http.auth import ApiToken, Principal, Role, TokenTable, hash_token

QUEUES = """
queues:
  - {id: claims, name: Claims}
  - {id: billing, name: Billing}
"""
SECRET = "a-real-random-token-7f3a9c1e"
LOG_KEY = "logging: {hmac_key: a-real-log-hashing-key-5d1e}\n"
REAL = "asterisk: {ari_password: s3cret-ari, ami_secret: s3cret-ami}\n" + LOG_KEY


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "hotline.yaml"
    path.write_text(QUEUES + text)
    return load_settings(path, env=env or {})


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_a_token_table_keeps_hashes_and_compares_hashes() -> None:
    table = TokenTable([ApiToken.model_validate(
        {"token": SECRET, "actor": "sam", "role": "supervisor"})])  # fmt: skip
    assert SECRET not in repr(vars(table)) and SECRET.encode() not in repr(vars(table)).encode()
    assert table.principal(f"Bearer {SECRET}") == Principal("sam", Role.SUPERVISOR)
    assert table.principal(f"bearer   {SECRET} ") == Principal("sam", Role.SUPERVISOR)
    for header in (None, SECRET, f"Basic {SECRET}", "Bearer ", f"Bearer {SECRET}x",
                   "Bearer \udcff\udcfe"):  # not UTF-8: refused, never an error
        assert table.principal(header) is None


def test_a_hash_in_the_configuration_stands_for_its_token(tmp_path: Path) -> None:
    settings = load(tmp_path, "api_tokens:\n"
                    f"  - {{token_sha256: {sha(SECRET)}, actor: robot, role: supervisor}}\n")
    table = TokenTable(settings.api_tokens)
    assert table.principal(f"Bearer {SECRET}") == Principal("robot", Role.SUPERVISOR)
    assert hash_token(SECRET) == sha(SECRET)


def test_tokens_from_an_environment_variable_and_a_secret_file(tmp_path: Path) -> None:
    (tmp_path / "qa.token").write_text("qa-token-from-a-secret-file-01\n")
    settings = load(tmp_path, "api_tokens:\n"
                    "  - {token_env: HOTLINE_TOKEN_SAM, actor: sam, role: supervisor}\n"
                    "  - {token_file: qa.token, actor: quinn, role: qa, queues: [claims]}\n",
                    env={"HOTLINE_TOKEN_SAM": SECRET})  # fmt: skip
    assert [t.token_sha256 for t in settings.api_tokens] == [
        sha(SECRET), sha("qa-token-from-a-secret-file-01")]
    assert all(t.token_env is None and t.token_file is None for t in settings.api_tokens)
    table = TokenTable(settings.api_tokens)
    assert table.principal(f"Bearer {SECRET}") == Principal("sam", Role.SUPERVISOR)
    assert table.principal("Bearer qa-token-from-a-secret-file-01") == Principal(
        "quinn", Role.QA, queues=frozenset({"claims"}))


def test_a_whole_token_list_from_a_secret_file_replaces_the_configurations(
    tmp_path: Path,
) -> None:
    (tmp_path / "tokens.yaml").write_text(
        f"- {{token_sha256: {sha(SECRET)}, actor: ops, role: admin}}\n")
    settings = load(tmp_path, "api_tokens:\n  - {token: dev-supervisor-token-0001, "
                    "actor: sam, role: supervisor}\n",
                    env={"HOTLINE_API_TOKENS_FILE": str(tmp_path / "tokens.yaml")})
    assert [(t.actor, t.role) for t in settings.api_tokens] == [("ops", Role.ADMIN)]


@pytest.mark.parametrize(("entry", "env", "message"), [
    ("{token_env: NOPE, actor: sam, role: supervisor}", {},
     "api_tokens[0].token_env: NOPE is not set"),
    ("{token_env: SHORT, actor: sam, role: supervisor}", {"SHORT": "abc"},
     "api_tokens[0]: the token must have at least 16 characters"),
    ("{token_file: missing.token, actor: sam, role: supervisor}", {},
     "api_tokens[0].token_file: cannot read"),
    ("{actor: sam, role: supervisor}", {},
     "api_tokens[0]: give exactly one of token, token_sha256, token_env, token_file"),
    (f"{{token: {SECRET}, token_env: X, actor: sam, role: supervisor}}", {},
     "api_tokens[0]: give exactly one of token, token_sha256, token_env, token_file "
     "(not token and token_env)"),
    ("{token_sha256: abc, actor: sam, role: supervisor}", {},
     "api_tokens[0].token_sha256: String should match"),
    (f"{{token: {SECRET}, actor: sam, role: viewer}}", {}, "api_tokens[0].role: Input should"),
    (f"{{token: {SECRET}, actor: sue, role: supervisor, queues: [sales]}}", {},
     "api_tokens[0].queues[0]: unknown queue 'sales'"),
])  # fmt: skip
def test_a_token_that_cannot_be_had_names_its_entry(
    tmp_path: Path, entry: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"api_tokens:\n  - {entry}\n", env)
    assert message in str(caught.value)


def test_the_same_token_twice_from_two_sources_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="api_tokens: the same token is listed twice"):
        load(tmp_path, "api_tokens:\n"
             f"  - {{token: {SECRET}, actor: sam, role: supervisor}}\n"
             "  - {token_env: SAME, actor: quinn, role: qa}\n", env={"SAME": SECRET})


def test_an_agent_token_stands_for_its_agent() -> None:
    def entry(**extra: object) -> Principal:
        return ApiToken.model_validate({"token": SECRET, "actor": "alice", "role": "agent",
                                        **extra}).principal()  # fmt: skip

    assert entry() == Principal("alice", Role.AGENT, agent_id="alice")
    assert entry(agent_id="a-17") == Principal("alice", Role.AGENT, agent_id="a-17")
    assert entry(queues=["claims"]).queues is None  # queue scopes are for supervisors and QA


# --- the service refuses development secrets off loopback -----------------------------------


@pytest.mark.parametrize("token", ["dev-supervisor-token-0001", "test-agent-token-00000001"])
def test_a_published_token_is_refused_when_listening_beyond_loopback(
    tmp_path: Path, token: str
) -> None:
    text = REAL + f"api_tokens:\n  - {{token: {SECRET}, actor: ops, role: admin}}\n" \
                  f"  - {{token: {token}, actor: sam, role: supervisor}}\n"
    assert load(tmp_path, text).http.loopback  # the default host: fine
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env={"HOTLINE_HTTP_HOST": "0.0.0.0"})
    assert str(caught.value) == (
        f"{tmp_path / 'hotline.yaml'}: api_tokens[1]: a development token published in this "
        "repository; not allowed while http.host is '0.0.0.0' (not loopback)")


def test_a_published_token_is_refused_even_as_its_hash_or_from_the_environment(
    tmp_path: Path,
) -> None:
    text = REAL + "http: {host: 10.1.2.3}\napi_tokens:\n" \
        f"  - {{token_sha256: {sha('dev-qa-token-00000000001')}, actor: q, role: qa}}\n" \
        "  - {token_env: DEV, actor: sam, role: supervisor}\n"
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env={"DEV": "dev-supervisor-token-0001"})
    assert [line.split(": ")[1] for line in str(caught.value).splitlines()] == [
        "api_tokens[0]", "api_tokens[1]"]


@pytest.mark.parametrize(("asterisk", "field"), [
    ("{ami_secret: s3cret-ami}", "asterisk.ari_password: unset or the default 'hotline'"),
    ("{ari_password: s3cret-ari, ami_secret: ''}", "asterisk.ami_secret: unset or the "
                                                   "default ''"),
])  # fmt: skip
def test_default_asterisk_secrets_are_refused_beyond_loopback(
    tmp_path: Path, asterisk: str, field: str
) -> None:
    text = f"asterisk: {asterisk}\nhttp: {{host: '::'}}\n" + LOG_KEY
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value) == (f"{tmp_path / 'hotline.yaml'}: {field}; not allowed while "
                                 "http.host is '::' (not loopback)")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "localhost"])
def test_loopback_hosts_may_use_development_values(tmp_path: Path, host: str) -> None:
    settings = load(tmp_path, f"http: {{host: '{host}'}}\napi_tokens:\n"
                    "  - {token: dev-supervisor-token-0001, actor: sam, role: supervisor}\n")
    assert settings.http.loopback and public_bind_problems(settings) == []


def test_real_secrets_listen_anywhere(tmp_path: Path) -> None:
    settings = load(tmp_path, REAL + "http: {host: 0.0.0.0}\napi_tokens:\n"
                    f"  - {{token: {SECRET}, actor: ops, role: admin}}\n")
    assert not settings.http.loopback and public_bind_problems(settings) == []


def test_the_development_configuration_refuses_to_serve_beyond_loopback() -> None:
    config = Path(__file__).resolve().parents[2] / "config/hotline.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={"HOTLINE_HTTP_HOST": "0.0.0.0"})
    assert {line.split(": ")[1] for line in str(caught.value).splitlines()} == {
        "api_tokens[0]", "api_tokens[1]", "asterisk.ari_password", "asterisk.ami_secret",
        "logging.hmac_key"}


def test_no_log_hashing_key_is_refused_beyond_loopback_in_one_line_naming_the_field(
    tmp_path: Path,
) -> None:
    """Without a key each process hashes with a random one: lines about one caller cannot be
    joined across restarts, and nothing says whether two runs' hashes are comparable."""
    real_without_key = REAL.replace(LOG_KEY, "")
    assert public_bind_problems(load(tmp_path, real_without_key)) == []  # loopback: a random key
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, real_without_key + "http: {host: 0.0.0.0}\n")
    assert str(caught.value) == (
        f"{tmp_path / 'hotline.yaml'}: logging.hmac_key: unset (HOTLINE_LOG_HMAC_KEY, 16+ "
        "characters): personal data in the logs would be hashed with a random key; not allowed "
        "while http.host is '0.0.0.0' (not loopback)")
    from_env = load(tmp_path, real_without_key + "http: {host: 0.0.0.0}\n",
                    env={"HOTLINE_LOG_HMAC_KEY": "k" * 16})  # fmt: skip
    assert public_bind_problems(from_env) == []


# --- tokens for the service's own tools -----------------------------------------------------


def test_a_tool_that_starts_the_service_gets_a_token_of_its_own(tmp_path: Path) -> None:
    settings = load(tmp_path, REAL + "http: {host: 0.0.0.0}\n")
    with_token, token = with_process_token(settings, "demo")
    assert settings.api_tokens == () and len(token) >= 40
    assert TokenTable(with_token.api_tokens).principal(f"Bearer {token}") == Principal(
        "demo", Role.SUPERVISOR)
    assert public_bind_problems(with_token) == []  # random: not a published token
    assert with_process_token(settings, "demo")[1] != token


def test_a_development_configuration_lends_hotline_call_its_token(tmp_path: Path) -> None:
    settings = load(tmp_path, "api_tokens:\n"
                    "  - {token: dev-qa-token-00000000001, actor: quinn, role: qa}\n"
                    "  - {token: scoped-supervisor-token-1, actor: sue, role: supervisor, "
                    "queues: [claims]}\n"
                    "  - {token: dev-supervisor-token-0001, actor: sam, role: supervisor}\n")
    assert configured_token(settings) == "dev-supervisor-token-0001"
    assert configured_token(load(tmp_path, "")) is None
