"""Pure parts of the knowledge room: the FAQ file's checks, text normalisation, the search
cache and the contract's JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from knowledge_client import wire
from knowledge_client.cache import TtlLru, cache_key
from knowledge_client.faq import FaqError, Normalizer, parse_faq
from knowledge_client.model import Feedback, Outcome, Query, Unanswered

ITEM = """
  - id: a
    intent: billing
    question: How do I pay?
    answer_spoken: By card.
    answer_text: By card or transfer.
"""


def test_a_minimal_file_parses() -> None:
    book = parse_faq("items:" + ITEM, "faq.yaml")
    assert [e.item_id for e in book.entries] == ["a"]
    assert book.language == "en"


def test_every_problem_is_one_line_naming_file_and_field() -> None:
    text = """
synonyms:
  car: [auto]
  vehicle: [auto]
items:
  - id: a
    intent: billing
    question: How do I pay?
    answer_spoken: Visit www.acme.example and pay the 12 dollars, it takes a minute or two and
      you will get a receipt by email as soon as the payment has gone through on our side today.
    answer_text: x
    colour: red
  - id: a
    question: ""
"""
    with pytest.raises(FaqError) as error:
        parse_faq(text, "faq.yaml")
    lines = str(error.value).splitlines()
    assert all(line.startswith("faq.yaml: ") for line in lines)
    joined = "\n".join(lines)
    assert "synonyms.vehicle: 'auto' already belongs to 'car'" in joined
    assert "items[0].colour: unknown field" in joined
    assert "items[0].answer_spoken: 33 words; a spoken answer has at most 30" in joined
    assert "items[0].answer_spoken: has digits" in joined
    assert "items[0].answer_spoken: has a web address" in joined
    assert "items[1].question: required text" in joined
    assert "items[1].intent: required text" in joined


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(FaqError, match=r"items\[1\].id: duplicate id 'a'"):
        parse_faq("items:" + ITEM + ITEM, "faq.yaml")


def test_not_yaml_is_refused() -> None:
    with pytest.raises(FaqError, match="faq.yaml: not valid YAML"):
        parse_faq("items: [", "faq.yaml")


def test_normalizer_maps_phrases_longest_first_and_drops_stopwords() -> None:
    n = Normalizer({"vehicle": ["car"], "breakdown": ["broke down", "won't start"]},
                   stopwords=["my", "the", "on"])
    assert n.terms("My CAR broke down on the M4!") == ("vehicle", "breakdown", "m4")
    assert n.terms("the car wont start, the car!") == ("vehicle", "breakdown")


def test_cache_key_ignores_case_punctuation_and_call() -> None:
    a = cache_key(Query("Where's my claim?", call_id="1"))
    assert a == cache_key(Query("wheres  MY claim", call_id="2"))
    assert a != cache_key(Query("wheres my claim", intent="claim_status"))
    assert a != cache_key(Query("wheres my claim", language="zh"))


def test_cache_expires_and_evicts_least_recently_used() -> None:
    now = [0.0]
    cache: TtlLru[str, int] = TtlLru(max_entries=2, ttl_s=10.0, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("c") == 3
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 1


def test_report_ids_are_stable_across_the_outbox_round_trip() -> None:
    u = Unanswered("call-1", "do you insure boats", ("hello", "do you insure boats"), None,
                   Outcome.TRANSFERRED, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    body = wire.unanswered_body(u)
    message_id, back = wire.unanswered_from(json.dumps(body).encode())
    assert back == u and message_id == body["id"]
    assert wire.unanswered_body(back)["id"] == body["id"]
    fb = Feedback("claim-status", "call-1", True, Outcome.CONTAINED)
    fb_body = wire.feedback_body(fb)
    assert wire.feedback_from(json.dumps(fb_body).encode()) == (fb_body["id"], fb)
    assert fb_body["id"] != wire.feedback_body(Feedback("claim-status", "call-1", False,
                                                        Outcome.TRANSFERRED))["id"]


def test_search_response_must_follow_the_contract() -> None:
    with pytest.raises(wire.WireError):
        wire.parse_search_response(b'{"items": [{"id": "a", "question": "q",'
                                   b' "answer_spoken": "s", "score": 7}]}')
    with pytest.raises(wire.WireError):
        wire.parse_search_response(b"<html>")
