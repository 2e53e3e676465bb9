import pytest

from ari_app.devtools.simulator_script import Action, ScriptError, parse_script


def test_a_script_parses_into_actions() -> None:
    script = parse_script("wait_for:prompt@main_menu press:1 wait:2.5 silence:3 hangup")
    assert script == [Action("wait_for", "prompt@main_menu"), Action("press", "1"),
                      Action("wait", "2.5"), Action("silence", "3"), Action("hangup")]


def test_wait_for_matches_type_and_optional_node() -> None:
    assert Action("wait_for", "prompt@survey").matches({"type": "prompt", "node": "survey"})
    assert not Action("wait_for", "prompt@survey").matches({"type": "prompt", "node": "menu"})
    assert Action("wait_for", "hangup").matches({"type": "hangup"})


@pytest.mark.parametrize(("text", "message"), [
    ("dance", "action 1 'dance': unknown action"),
    ("press:12a", "action 1 'press:12a': needs digits"),
    ("wait:-1", "action 1 'wait:-1': needs a number of seconds"),
    ("hangup wait_for:", "action 2 'wait_for:': needs an event type"),
    ("hangup:now", "takes no argument"),
    ("say:help confirm:", "action 2 'confirm:': needs words, e.g. confirm:yes"),
])
def test_bad_scripts_name_the_action(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        parse_script(text)


def test_say_turns_underscores_into_spaces() -> None:
    (action,) = parse_script("say:I_want_to_check_my_claim")
    assert action.verb == "say" and action.text == "I want to check my claim"


def test_say_needs_words() -> None:
    with pytest.raises(ScriptError, match="needs words"):
        parse_script("say:_")


def test_confirm_carries_the_answer_to_say_if_asked() -> None:
    assert parse_script("say:roadside_help confirm:yes")[1] == Action("confirm", "yes")
