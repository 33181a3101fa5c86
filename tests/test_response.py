"""Completion, Usage and RequestEstimate: parsed from the spec's example, compared, costed."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from mimo_nb.api.request import RequestEstimate
from mimo_nb.api.response import Completion, Usage, completion_from_json, spec_example_completion
from mimo_nb.core.pricing import Prices, load_prices
from mimo_nb.core.tokens import explain_video_tokens
from mimo_nb.display import render


def test_shipped_example_is_the_page_example_with_escapes_decoded(spec_page_text):
    text = spec_page_text
    block = text[text.index("响应结果\n") + len("响应结果\n") : text.index("支持的模型列表")]
    assert "\\\\n" in block  # the page shows "\\n" inside strings
    page = json.loads(re.sub(r'\\(["\\])', r"\1", block))  # undo the page's extra level of escaping
    shipped = json.loads(
        resources.files("mimo_nb").joinpath("data/spec_example_response.json").read_text("utf-8")
    )
    assert shipped["response"] == page
    assert "decoded" in shipped["_note"] and "not an answer" in shipped["_note"]
    assert "\n\n" in page["choices"][0]["message"]["content"]


def test_spec_example_parses_into_every_field():
    done = spec_example_completion()
    assert done.origin == "recorded"
    assert done.id == "a7a6fe52ffeb40ab9e699fe018592b16" and done.model == "mimo-v2.5"
    assert done.finish_reason == "stop"
    assert done.content.startswith("The video features a small, fluffy white kitten")
    assert done.reasoning_content.startswith("The user wants me to describe the video provided.")
    assert done.usage == Usage(
        prompt_tokens=1260,
        completion_tokens=849,
        total_tokens=2109,
        reasoning_tokens=719,
        video_tokens=1144,
        audio_tokens=19,
        cached_tokens=1256,
    )
    assert done.usage.text_tokens == 1260 - 1144 - 19
    assert done.raw["object"] == "chat.completion"


def test_usage_tolerates_missing_and_null_fields():
    assert Usage.from_dict(None) == Usage()
    u = Usage.from_dict(
        {"prompt_tokens": 10, "completion_tokens": None, "prompt_tokens_details": None}
    )
    assert (u.prompt_tokens, u.completion_tokens, u.video_tokens) == (10, 0, 0)


def test_estimate_of_the_inferred_example_clip_matches_its_usage_field_by_field():
    # the spec summary's reading: ~3.02 s, 720x405, fps 2 -> 4 grids of 286 tokens, 19 audio tokens
    breakdown = explain_video_tokens(3.02, 720, 405, fps=2)
    done = spec_example_completion()
    done.estimate = RequestEstimate(videos=(breakdown,), text_tokens=40)
    rows = dict((name, (est, act)) for name, est, act in done.comparison())
    assert rows["video"] == (1144, 1144)
    assert rows["audio"] == (19, 19)
    assert rows["prompt total"] == (breakdown.total + 40, 1260)


def test_estimate_with_an_unprobed_url_is_incomplete():
    b = explain_video_tokens(10, 640, 360)
    est = RequestEstimate(videos=(b, None), text_tokens=5)
    assert not est.complete
    assert est.video_tokens == b.vision and est.prompt_tokens == b.total + 5
    done = spec_example_completion()
    done.estimate = est
    assert [row[1] for row in done.comparison()] == [None, None, None]
    assert est.to_dict()["videos"][1] is None


def test_cost_uses_the_core_pricing():
    prices = Prices(input=1.0, cached_input=0.02, output=2.0)
    done = spec_example_completion(prices=prices)
    assert (
        done.cost.input_tokens == 4
        and done.cost.cached_tokens == 1256
        and done.cost.output_tokens == 849
    )
    assert done.cost.total == pytest.approx((4 * 1.0 + 1256 * 0.02 + 849 * 2.0) / 1e6)
    assert spec_example_completion().cost is None
    assert spec_example_completion(prices=load_prices()).to_dict()["currency"] == "CNY"


def test_str_says_what_it_is():
    text = str(spec_example_completion(prices=load_prices()))
    assert "recorded example, not a live answer" in text
    assert "video 1,144" in text and "reasoning 719" in text and "CNY" in text
    assert "The video features" in text


def test_to_dict_is_flat():
    record = spec_example_completion().to_dict()
    assert record["usage_video_tokens"] == 1144 and record["origin"] == "recorded"
    assert all(not isinstance(v, (dict, list)) for v in record.values())


def test_repr_html_comes_from_the_display_layer_through_the_hook():
    done = spec_example_completion()
    assert done._repr_html_() == render.completion_html(done)


def test_malformed_bodies_raise_validation_errors_naming_the_field():
    from mimo_nb.errors import APIResponseValidationError

    with pytest.raises(APIResponseValidationError, match="choices is null"):
        completion_from_json({"id": "x"})
    with pytest.raises(APIResponseValidationError, match=r"choices is \[\] .*non-empty list"):
        completion_from_json({"choices": []})
    c = completion_from_json({"choices": [{"message": {"content": None}, "finish_reason": "stop"}]})
    assert isinstance(c, Completion) and c.content == "" and c.usage is None
