from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
queues:
  - {id: claims, name: Claims}
agents:
  - {id: alice, name: Alice, endpoint: PJSIP/1001, queues: [claims]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(text)
    return path


def test_the_development_configuration_loads() -> None:
    settings = load_settings(ROOT / "config/hotline.yaml", env={})
    assert {q.id for q in settings.queues} == {"claims", "billing", "general"}
    assert settings.flow == ROOT / "ivr/flows/hotline.yaml"
    assert settings.database_url == f"sqlite+aiosqlite:///{ROOT / 'var/hotline.sqlite3'}"


def test_defaults_fill_what_is_left_out(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, MINIMAL), env={})
    assert settings.asterisk.ari_url == "http://127.0.0.1:8088/ari"
    assert settings.asterisk.events_url == "ws://127.0.0.1:8088/ari/events"
    assert settings.queues[0].ring_timeout_s == 15
    retention = settings.recordings.retention  # recordings are kept for ever unless told
    assert (retention.default_days, retention.queues, retention.sweep_every_s) == (None, {}, 3600)


def test_retention_is_per_queue_with_a_default(tmp_path: Path) -> None:
    text = MINIMAL + "recordings: {retention: {default_days: 90, queues: {claims: 2555}}}\n"
    retention = load_settings(_write(tmp_path, text), env={}).recordings.retention
    assert (retention.default_days, retention.queues) == (90, {"claims": 2555})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": "postgresql+asyncpg://u@db/hotline",
           "HOTLINE_ARI_URL": "http://asterisk:8088/ari", "HOTLINE_HTTP_PORT": "9000"}
    settings = load_settings(_write(tmp_path, MINIMAL), env=env)
    assert settings.database_url == "postgresql+asyncpg://u@db/hotline"
    assert settings.asterisk.ari_url == "http://asterisk:8088/ari"
    assert settings.http.port == 9000


@pytest.mark.parametrize(("text", "expected"), [
    (MINIMAL + "agnets: []\n", "hotline.yaml: agnets: Extra inputs are not permitted"),
    (MINIMAL.replace("[claims]}", "[claimz]}"),
     "hotline.yaml: agents[0].queues[0]: unknown queue 'claimz'"),
    (MINIMAL.replace("PJSIP/1001", "1001"), "hotline.yaml: agents.0.endpoint"),
    (MINIMAL + "http: {port: eighty}\n", "hotline.yaml: http.port: Input should be a valid"),
    (MINIMAL + "asterisk: {ari_url: 127.0.0.1:8088}\n",
     "hotline.yaml: asterisk.ari_url: must start with http:// or https://"),
    ("queues: []\n", "hotline.yaml: queues: Tuple should have at least 1 item"),
    ("queues: [\n", "hotline.yaml: not valid YAML"),
    (MINIMAL + "recordings: {retention: {queues: {claimz: 30}}}\n",
     "hotline.yaml: recordings.retention.queues.claimz: unknown queue 'claimz'"),
    (MINIMAL + "recordings: {retention: {queues: {claims: 0}}}\n",
     "hotline.yaml: recordings.retention.queues.claims: Input should be greater than 0"),
    (MINIMAL + "recordings: {retention: {default_days: -1}}\n",
     "hotline.yaml: recordings.retention.default_days: Input should be greater than 0"),
    (MINIMAL + "recordings: {retention: {sweep_every_s: 1}}\n",
     "hotline.yaml: recordings.retention.sweep_every_s: Input should be greater than"),
    (MINIMAL + "dispositions: []\n", "hotline.yaml: dispositions: Tuple should have at least 1"),
    (MINIMAL + "dispositions: [{code: Bad Code, label: B}]\n",
     "hotline.yaml: dispositions[0].code: String should match pattern"),
    (MINIMAL + "dispositions: [{code: ok}]\n", "hotline.yaml: dispositions[0].label: Field "
     "required"),
    (MINIMAL + "dispositions: [{code: ok, label: OK, complaint: maybe}]\n",
     "hotline.yaml: dispositions[0].complaint: Input should be a valid boolean"),
    (MINIMAL + "dispositions: [{code: ok, label: A}, {code: ok, label: B}]\n",
     "hotline.yaml: dispositions[1].code: 'ok' is listed twice"),
])
def test_bad_configuration_names_the_file_and_field(tmp_path: Path, text: str,
                                                    expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(_write(tmp_path, text), env={})
    assert expected.replace("agents.0.endpoint", "agents[0].endpoint") in str(error.value)


def test_disposition_codes_default_and_are_configured(tmp_path: Path) -> None:
    codes = load_settings(_write(tmp_path, MINIMAL), env={}).disposition_codes()
    assert codes.names == ("resolved", "callback_promised", "complaint", "escalated",
                           "wrong_number")
    complaint = codes.get("complaint")
    assert complaint is not None and (complaint.complaint, complaint.resolved) == (True, False)
    text = MINIMAL + "dispositions: [{code: sold, label: Sold, resolved: true}]\n"
    configured = load_settings(_write(tmp_path, text), env={}).disposition_codes()
    assert [(c.code, c.label, c.complaint, c.resolved) for c in configured] == [
        ("sold", "Sold", False, True)]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        load_settings(tmp_path / "nope.yaml", env={})
