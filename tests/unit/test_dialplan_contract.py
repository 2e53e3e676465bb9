"""dialplans/ and ari_app/channel_vars.py must agree: the dialplan is a contract."""

from __future__ import annotations

import re
from pathlib import Path

import asterisk.config  # pyst2: reads Asterisk's own config syntax
import yaml

from ari_app import channel_vars as cv
from ari_app.settings import AsteriskSettings

ROOT = Path(__file__).resolve().parents[2]
DIALPLANS = ROOT / "dialplans"


def _sections(name: str) -> dict[str, list[tuple[str, str]]]:
    config = asterisk.config.Config(str(DIALPLANS / name))
    return {c.name: [(i.name.strip(), str(i.value).strip()) for i in c.items]
            for c in config.categories}


def _lines(section: list[tuple[str, str]]) -> str:
    return "\n".join(value for _, value in section)


def test_the_contexts_the_service_and_tools_use_exist() -> None:
    contexts = _sections("extensions.conf")
    for context in (cv.HOTLINE_CONTEXT, cv.FALLBACK_CONTEXT, cv.SIM_CALLERS_CONTEXT,
                    cv.SIM_AGENTS_CONTEXT):
        assert context in contexts, f"extensions.conf lacks [{context}]"


def test_hotline_enters_the_app_named_in_globals_as_inbound_then_falls_back() -> None:
    contexts = _sections("extensions.conf")
    hotline = _lines(contexts[cv.HOTLINE_CONTEXT])
    assert f"Stasis(${{{cv.APP_NAME_VAR}}},{cv.ROLE_INBOUND})" in hotline
    assert f"Goto({cv.FALLBACK_CONTEXT},s,1)" in hotline
    globals_ = dict(contexts["globals"])
    assert globals_[cv.APP_NAME_VAR] == AsteriskSettings().app


def test_simulator_entry_reaches_the_hotline() -> None:
    sim = _lines(_sections("extensions.conf")[cv.SIM_CALLERS_CONTEXT])
    assert sim.startswith("hotline,1,") and f"Goto({cv.HOTLINE_CONTEXT},s,1)" in sim


def test_every_hotline_variable_in_the_dialplan_is_declared() -> None:
    text = (DIALPLANS / "extensions.conf").read_text()
    used = set(re.findall(r"\$\{(HOTLINE_[A-Z_]+)\}", text))
    declared = cv.CHANNEL_VARS | {cv.APP_NAME_VAR}
    assert used <= declared, f"undeclared: {sorted(used - declared)}"


def test_ari_snapshots_carry_exactly_the_declared_channel_variables() -> None:
    general = dict(_sections("ari.conf")["general"])
    listed = {v.strip() for v in general["channelvars"].split(",")}
    assert listed == set(cv.CHANNEL_VARS)


def test_development_config_credentials_match_asterisk() -> None:
    config = yaml.safe_load((ROOT / "config/hotline.yaml").read_text())["asterisk"]
    ari_user = dict(_sections("ari.conf")[config["ari_user"]])
    assert ari_user["password"] == config["ari_password"]
    manager = dict(_sections("manager.conf")[config["ami_user"]])
    assert manager["secret"] == config["ami_secret"]
    http = dict(_sections("http.conf")["general"])
    assert config["ari_url"] == f"http://{http['bindaddr']}:{http['bindport']}/ari"


# What each AMI action the service sends needs (Asterisk 22: main/manager.c and
# res/res_manager_devicestate.c register them): any one of the classes, none for Ping.
# Filter (class system) is not sent: manager.conf's eventfilter filters instead.
AMI_ACTION_CLASSES = {"Ping": set(), "DeviceStateList": {"call", "reporting"},
                      "Getvar": {"call", "reporting"}, "Filter": {"system"}}  # fmt: skip
DANGEROUS = {"all", "system", "command", "originate", "config", "agent", "user", "dialplan",
             "agi", "message", "call"}  # fmt: skip


def _classes(value: str) -> set[str]:
    return {c.strip() for c in value.split(",") if c.strip()}


def test_the_ami_user_may_do_what_the_monitor_needs_and_nothing_more() -> None:
    config = yaml.safe_load((ROOT / "config/hotline.yaml").read_text())["asterisk"]
    entries = _sections("manager.conf")[config["ami_user"]]
    user = dict(entries)
    read, write = _classes(user["read"]), _classes(user["write"])
    assert read == {"call"}, "DeviceStateChange is a call-class event; nothing else is read"
    assert write & DANGEROUS == set(), f"the AMI user may {sorted(write & DANGEROUS)}"
    monitor = (ROOT / "ari_app/ami/monitor.py").read_text()
    sent = set(re.findall(r'"Action": "(\w+)"', monitor))
    assert sent, "no AMI action found in ari_app/ami/monitor.py"
    for action in sent:
        needed = AMI_ACTION_CLASSES[action]  # a new action: say here what it needs
        assert not needed or needed & write, f"{action} needs one of {sorted(needed)}"
    # Only device states are sent to the service, filtered by Asterisk.
    filters = [name for name, _ in entries if name.startswith("eventfilter")]
    assert filters == ["eventfilter(action(include),name(DeviceStateChange))"]
    assert user["deny"] == "0.0.0.0/0.0.0.0"
