"""Flow files: every problem is one line naming the file, node and field, all reported at once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.flow import IntentCatalog, MenuNode, QueueNode, SelfServiceNode, flow_texts
from ivr.intents import IntentSpec
from ivr.loader import HOTLINE_FLOW, load_flow
from ivr.validate import FlowError, validate_flow

SOURCE = "flows/hotline.yaml"
QUEUES = ("claims", "billing", "general")

BASE: dict[str, Any] = {
    "start": "welcome",
    "nodes": {
        "welcome": {"type": "prompt", "say": "Welcome.", "next": "main_menu"},
        "main_menu": {
            "type": "menu",
            "say": "For claims press 1.",
            "options": {1: "claims_q", "0": "agent"},
            "on_failure": "agent",
        },
        "claims_q": {"type": "queue", "queue": "claims"},
        "agent": {"type": "queue", "queue": "general", "say": "Please hold."},
    },
    "survey": {"say": "Rate us 1 to 5.", "reprompt": "Press 1 to 5.", "thanks": "Thanks.",
               "unanswered": "Goodbye."},
}


def flow_doc(**changes: Any) -> dict[str, Any]:
    """BASE with changes; keys like 'nodes.main_menu.timeout' reach inside, None deletes."""
    doc = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = doc
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return doc


def problems(doc: object, known_queues: tuple[str, ...] | None = QUEUES) -> list[str]:
    with pytest.raises(FlowError) as caught:
        validate_flow(doc, SOURCE, known_queues=known_queues)
    return str(caught.value).splitlines()


def test_base_document_is_valid() -> None:
    flow = validate_flow(flow_doc(), SOURCE, known_queues=QUEUES)
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert dict(menu.options) == {"1": "claims_q", "0": "agent"}  # YAML's integer 1 is key '1'
    assert (menu.timeout, menu.inter_digit_timeout, menu.max_attempts) == (5.0, 3.0, 3)
    assert (flow.name, flow.language, flow.voice) == ("hotline", "en", "en-us")


def test_unknown_target() -> None:
    doc = flow_doc(**{"nodes.main_menu.options": {7: "billing_q", 1: "claims_q", 0: "agent"}})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'main_menu': options['7'] -> 'billing_q': no such node"]


def test_unknown_next_and_on_failure_and_start() -> None:
    doc = flow_doc(**{"nodes.welcome.next": "menu", "nodes.main_menu.on_failure": "agnt",
                      "start": "hello"})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'main_menu': on_failure -> 'agnt': no such node",
        "flows/hotline.yaml: node 'welcome': next -> 'menu': no such node",
        "flows/hotline.yaml: start -> 'hello': no such node",
    ]


def test_unreachable_node() -> None:
    doc = flow_doc(**{"nodes.orphan": {"type": "hangup", "say": "Bye."}})
    assert problems(doc) == ["flows/hotline.yaml: node 'orphan': unreachable from start 'welcome'"]


@pytest.mark.parametrize("node", ["welcome", "main_menu"])
def test_missing_prompt_text(node: str) -> None:
    assert problems(flow_doc(**{f"nodes.{node}.say": None})) == [
        f"flows/hotline.yaml: node '{node}': say: missing"]


def test_blank_prompt_text() -> None:
    assert problems(flow_doc(**{"nodes.welcome.say": "  "})) == [
        "flows/hotline.yaml: node 'welcome': say: expected text, got '  '"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("timeout", "five", "timeout: expected a number of seconds, got 'five'"),
    ("timeout", 5000, "timeout: 5000 is not between 0 and 120 seconds"),
    ("inter_digit_timeout", True, "inter_digit_timeout: expected a number of seconds, got True"),
    ("max_attempts", 2.5, "max_attempts: expected a whole number, got 2.5"),
    ("max_attempts", 0, "max_attempts: 0 is not between 1 and 10"),
    ("no_input", "Sorry?", "no_input: expected a list of texts, got 'Sorry?'"),
    ("no_match", ["Sorry.", 3], "no_match: expected a list of texts, got ['Sorry.', 3]"),
    ("options", ["1", "2"], "options: expected a mapping, got ['1', '2']"),
])
def test_bad_types(field: str, value: object, message: str) -> None:
    assert problems(flow_doc(**{f"nodes.main_menu.{field}": value})) == [
        f"flows/hotline.yaml: node 'main_menu': {message}"]


@pytest.mark.parametrize("key", [10, "a", "12", True])
def test_option_key_not_a_single_key(key: object) -> None:
    doc = flow_doc(**{"nodes.main_menu.options": {key: "agent", "1": "claims_q"}})
    assert problems(doc) == [
        f"flows/hotline.yaml: node 'main_menu': options[{str(key)!r}]: "
        "not a single key 0-9, * or #"]


def test_star_and_hash_are_keys() -> None:
    doc = flow_doc(**{"nodes.main_menu.options": {"*": "welcome", "#": "claims_q", 0: "agent"}})
    menu = validate_flow(doc, SOURCE).nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert set(menu.options) == {"*", "#", "0"}


def test_unknown_node_type() -> None:
    assert problems(flow_doc(**{"nodes.agent.type": "queu"})) == [
        "flows/hotline.yaml: node 'agent': type: unknown node type 'queu' (did you mean 'queue'?)"]


def test_missing_node_type() -> None:
    assert problems(flow_doc(**{"nodes.agent.type": None})) == [
        "flows/hotline.yaml: node 'agent': type: missing"]


def test_unknown_keys_suggest_the_intended_one() -> None:
    doc = flow_doc(**{"nodes.main_menu.timout": 4, "nodes.welcome.colour": "red",
                      "survey.thank": "Thanks!", "strat": "welcome"})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'main_menu': timout: unknown key (did you mean 'timeout'?)",
        "flows/hotline.yaml: node 'welcome': colour: unknown key (allowed: type, say, next)",
        "flows/hotline.yaml: strat: unknown key (did you mean 'start'?)",
        "flows/hotline.yaml: survey: thank: unknown key (did you mean 'thanks'?)",
    ]


def test_queue_not_in_service_config() -> None:
    assert problems(flow_doc(**{"nodes.claims_q.queue": "claim"})) == [
        "flows/hotline.yaml: node 'claims_q': queue: 'claim' is not a known queue "
        "(known: billing, claims, general)"]


def test_any_queue_allowed_without_known_queues() -> None:
    doc = flow_doc(**{"nodes.claims_q.queue": "anything"})
    assert isinstance(validate_flow(doc, SOURCE).nodes["claims_q"], QueueNode)


def test_missing_survey_fields() -> None:
    doc = flow_doc(**{"survey.thanks": None, "survey.unanswered": None, "survey.timeout": "x"})
    assert problems(doc) == [
        "flows/hotline.yaml: survey: thanks: missing",
        "flows/hotline.yaml: survey: timeout: expected a number of seconds, got 'x'",
        "flows/hotline.yaml: survey: unanswered: missing",
    ]


def test_missing_survey_section() -> None:
    assert problems(flow_doc(survey=None)) == ["flows/hotline.yaml: survey: missing"]


def test_empty_no_input_is_allowed() -> None:
    menu = validate_flow(flow_doc(**{"nodes.main_menu.no_input": []}), SOURCE).nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert menu.no_input == ()


def test_more_escalation_texts_than_attempts() -> None:
    doc = flow_doc(**{"nodes.main_menu.max_attempts": 2, "nodes.main_menu.no_match": list("abc")})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'main_menu': no_match: 3 texts but max_attempts is 2; "
        "the extra ones never play"]


def test_prompts_looping_without_a_menu() -> None:
    doc = flow_doc(**{"nodes.b": {"type": "prompt", "say": "B", "next": "c"},
                      "nodes.c": {"type": "prompt", "say": "C", "next": "b"},
                      "nodes.main_menu.options": {1: "claims_q", 0: "agent", 9: "c"}})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'b': next: prompts loop forever without a menu (b -> c -> b)"]


def test_fallback_must_be_a_queue_node() -> None:
    assert problems(flow_doc(fallback="welcome")) == [
        "flows/hotline.yaml: fallback -> 'welcome': not a queue node"]
    assert validate_flow(flow_doc(fallback="agent"), SOURCE).fallback == "agent"


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["start"]) == ["flows/hotline.yaml: expected a mapping with 'start', "
                                   "'nodes' and 'survey' at the top level"]


def test_all_problems_reported_together_and_sorted() -> None:
    doc = flow_doc(**{"nodes.main_menu.timeout": "five", "nodes.welcome.say": None,
                      "nodes.agent.queue": "agents", "survey.say": None})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'agent': queue: 'agents' is not a known queue "
        "(known: billing, claims, general)",
        "flows/hotline.yaml: node 'main_menu': timeout: expected a number of seconds, got 'five'",
        "flows/hotline.yaml: node 'welcome': say: missing",
        "flows/hotline.yaml: survey: say: missing",
    ]


# --- through the loader: real YAML, with line numbers ---------------------------------------

BROKEN_YAML = """\
start: welcome
nodes:
  welcome:
    type: prompt
    say: Welcome.
    next: main_menu
  main_menu:
    type: menu
    say: For claims press 1.
    options:
      1: claims_q
      7: billing_q
    timeout: five
    on_failure: claims_q
  claims_q:
    type: queue
    queue: claims
survey:
  say: Rate us.
  reprompt: 1 to 5 please.
  thanks: Thanks.
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows").mkdir()
    return tmp_path


def load_problems(text: str) -> list[str]:
    path = Path("flows/hotline.yaml")
    path.write_text(text)
    with pytest.raises(FlowError) as caught:
        load_flow(path, known_queues=QUEUES)
    return str(caught.value).splitlines()


def test_loader_reports_lines_in_file_order(in_tmp: Path) -> None:
    assert load_problems(BROKEN_YAML) == [
        "flows/hotline.yaml:12: node 'main_menu': options['7'] -> 'billing_q': no such node",
        "flows/hotline.yaml:13: node 'main_menu': timeout: expected a number of seconds, "
        "got 'five'",
        "flows/hotline.yaml:18: survey: unanswered: missing",
    ]


def test_loader_reports_duplicate_keys(in_tmp: Path) -> None:
    text = BROKEN_YAML.replace("      7: billing_q\n    timeout: five\n", "") \
        .replace("  thanks: Thanks.\n", "  thanks: Thanks.\n  unanswered: Bye.\n  thanks: Ta.\n")
    assert load_problems(text) == [
        "flows/hotline.yaml:21: survey: thanks: duplicate key (first on line 19)"]


def test_loader_reports_yaml_syntax(in_tmp: Path) -> None:
    assert load_problems("start: welcome\nnodes:\n  welcome: [oops\n") == [
        "flows/hotline.yaml:4: not valid YAML: expected ',' or ']', but got '<stream end>'"]


def test_loader_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"nope\.yaml: cannot read the flow file"):
        load_flow(tmp_path / "nope.yaml")


def test_demo_flow_validates_against_the_service_queues() -> None:
    flow = load_flow(HOTLINE_FLOW, known_queues=QUEUES)
    queues = {n.queue for n in flow.nodes.values() if isinstance(n, QueueNode)}
    assert queues == set(QUEUES)
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert set(menu.options) == {"0", "1", "2", "3", "4"}  # 4: common questions
    assert menu.max_attempts == 3
    assert isinstance(flow.nodes[menu.on_failure], QueueNode)
    assert len(menu.no_input) >= 2 and len(menu.no_match) >= 2
    assert "1 to 5" in flow.survey.say
    texts = flow_texts(flow)
    assert menu.say in texts and flow.survey.unanswered in texts
    assert len(texts) == len(set(texts))


# --- speech, self-service, language ---------------------------------------------------------

def catalog() -> IntentCatalog:
    specs = {name: IntentSpec(name, (name.replace("_", " "),))
             for name in ("claim_status", "billing", "agent", "yes", "no")}
    return IntentCatalog(specs, {"claim_status": "to check a claim"})


SPEECH_MENU = {"nodes.main_menu.speech": True,
               "nodes.main_menu.intents": {"claim_status": "claims_q", "agent": "agent"}}


def speech_problems(**changes: Any) -> list[str]:
    with pytest.raises(FlowError) as caught:
        validate_flow(flow_doc(**changes), SOURCE, known_queues=QUEUES, catalog=catalog())
    return str(caught.value).splitlines()


def test_speech_menu_is_valid() -> None:
    flow = validate_flow(flow_doc(**SPEECH_MENU, **{"nodes.main_menu.act_above": 0.8,
                                                   "nodes.main_menu.confirm_below": 0.5}),
                         SOURCE, known_queues=QUEUES, catalog=catalog())
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert menu.speech and dict(menu.intents) == {"claim_status": "claims_q", "agent": "agent"}
    assert (menu.act_above, menu.confirm_below) == (0.8, 0.5)
    assert "You want to check a claim, right?" in flow_texts(flow)


def test_unknown_intent_and_target() -> None:
    assert speech_problems(**{**SPEECH_MENU, "nodes.main_menu.intents": {
        "claim_stats": "claims_q", "billing": "billing_q"}}) == [
        "flows/hotline.yaml: node 'main_menu': intents['billing'] -> 'billing_q': no such node",
        "flows/hotline.yaml: node 'main_menu': intents['claim_stats']: no intent 'claim_stats' "
        "in the intents file (known: agent, billing, claim_status, no, yes)",
    ]


def test_speech_fields_are_checked() -> None:
    assert speech_problems(**{"nodes.main_menu.speech": "yes",
                              "nodes.main_menu.act_above": 1.5,
                              "nodes.main_menu.confirm": "You want {intent}?"}) == [
        "flows/hotline.yaml: node 'main_menu': act_above: expected a number between 0 and 1, "
        "got 1.5",
        "flows/hotline.yaml: node 'main_menu': confirm: unknown placeholder {intent} "
        "(allowed: {label})",
        "flows/hotline.yaml: node 'main_menu': speech: expected true or false, got 'yes'",
    ]


def test_thresholds_in_order_and_speech_needs_intents() -> None:
    assert speech_problems(**{"nodes.main_menu.speech": True,
                              "nodes.main_menu.act_above": 0.3,
                              "nodes.main_menu.confirm_below": 0.6}) == [
        "flows/hotline.yaml: node 'main_menu': confirm_below: 0.6 is above act_above 0.3",
        "flows/hotline.yaml: node 'main_menu': speech: true but the menu declares no intents",
    ]


def test_intents_without_the_intents_file() -> None:
    assert problems(flow_doc(**SPEECH_MENU)) == [
        "flows/hotline.yaml: node 'main_menu': intents: the flow's intents file was not loaded "
        "(use ivr.loader.load_flow)"]


SELF_SERVICE = {"type": "self_service", "say": "Ask your question.",
                "one_moment": "One moment.", "helped": "Did that help?", "on_failure": "agent"}


def test_self_service_node() -> None:
    doc = flow_doc(**{"nodes.ask": SELF_SERVICE, "nodes.main_menu.options": {
        1: "claims_q", 4: "ask", 0: "agent"}})
    flow = validate_flow(doc, SOURCE, known_queues=QUEUES)
    node = flow.nodes["ask"]
    assert isinstance(node, SelfServiceNode)
    assert (node.on_contained, node.on_failure, node.language) == ("survey", "agent", None)
    assert {"One moment.", "Did that help?"} <= set(flow_texts(flow))


def test_self_service_problems() -> None:
    bad = {**SELF_SERVICE, "on_failure": "main_menu", "on_contained": "party",
           "language": "fr", "helped": None, "choose": "{a} or {c}?"}
    doc = flow_doc(**{"nodes.ask": bad, "nodes.main_menu.options": {
        1: "claims_q", 4: "ask", 0: "agent"}})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'ask': choose: unknown placeholder {c} (allowed: {a}, {b})",
        "flows/hotline.yaml: node 'ask': helped: missing",
        "flows/hotline.yaml: node 'ask': language: 'fr' is not supported (one of en, zh)",
        "flows/hotline.yaml: node 'ask': on_contained: 'party' is not one of hangup, survey",
        "flows/hotline.yaml: node 'ask': on_failure -> 'main_menu': not a queue node "
        "(an agent must take over)",
    ]


def test_language_picks_its_voice_and_rejects_a_mismatch() -> None:
    assert validate_flow(flow_doc(language="zh"), SOURCE).voice == "cmn"
    assert problems(flow_doc(language="zh", voice="en-us")) == [
        "flows/hotline.yaml: voice: 'en-us' does not speak language 'zh' (use cmn or "
        "cmn-latn-pinyin)"]
    assert problems(flow_doc(language="de")) == [
        "flows/hotline.yaml: language: 'de' is not supported (one of en, zh)"]


def test_loader_reads_the_intents_file_beside_the_flow(in_tmp: Path) -> None:
    (in_tmp / "flows").mkdir(exist_ok=True)
    (in_tmp / "flows" / "menu_intents.yaml").write_text(
        "intents:\n  claim_status:\n    label: to check a claim\n    examples: [my claim]\n"
        "  agent:\n    examples: [agent]\n")
    doc = flow_doc(intents_file="menu_intents.yaml", **SPEECH_MENU)
    (in_tmp / "flows" / "hotline.yaml").write_text(yaml.safe_dump(doc))
    flow = load_flow(Path("flows/hotline.yaml"), known_queues=QUEUES)
    assert flow.intents.label("claim_status") == "to check a claim"
    assert flow.intents.specs["agent"].examples == ("agent",)


def test_loader_names_a_broken_intents_file(in_tmp: Path) -> None:
    (in_tmp / "flows").mkdir(exist_ok=True)
    (in_tmp / "flows" / "intents.yaml").write_text("intents:\n  billing:\n    examples: []\n")
    doc = flow_doc(intents_file="intents.yaml", **SPEECH_MENU)
    (in_tmp / "flows" / "hotline.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(FlowError) as caught:
        load_flow(Path("flows/hotline.yaml"))
    assert str(caught.value) == (
        "flows/intents.yaml:2: intent 'billing': examples: expected a list of phrases")


def test_without_intents_file_the_bundled_intents_are_used(in_tmp: Path) -> None:
    (in_tmp / "flows" / "hotline.yaml").write_text(yaml.safe_dump(flow_doc(**SPEECH_MENU)))
    flow = load_flow(Path("flows/hotline.yaml"), known_queues=QUEUES)
    assert "claim_status" in flow.intents.specs


def test_demo_flow_listens_at_the_main_menu() -> None:
    flow = load_flow(HOTLINE_FLOW, known_queues=QUEUES)
    menu = flow.nodes["main_menu"]
    assert isinstance(menu, MenuNode) and menu.speech
    assert dict(menu.intents) == {
        "claim_status": "claims", "report_claim": "claims", "billing": "billing",
        "policy_info": "ask_question", "roadside": "agent", "complaint": "agent",
        "agent": "agent"}
    assert menu.options["4"] == "ask_question"
    assert isinstance(flow.nodes["ask_question"], SelfServiceNode)
    assert {"claim_status", "report_claim", "policy_info", "billing", "roadside", "complaint",
            "agent", "yes", "no"} <= set(flow.intents.specs)


def test_self_service_language_must_be_the_flows() -> None:
    doc = flow_doc(**{"nodes.ask": {**SELF_SERVICE, "language": "zh"},
                      "nodes.main_menu.options": {1: "claims_q", 4: "ask", 0: "agent"}})
    assert problems(doc) == [
        "flows/hotline.yaml: node 'ask': language: 'zh' differs from the flow's language 'en'"]
