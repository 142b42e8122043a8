"""Issue 16, item 11: text that deceives is refused, once for every command (the shared schema types).

Every text field of every request body (any `Body` model, dict keys included) is normalised to NFC
and refuses control characters (newline and tab only where multi-line text is allowed), bidi
overrides and isolates, and zero-width characters; situation figures have plausible bounds.
"""

from __future__ import annotations

import typing
import unicodedata

import pytest
from pydantic import BaseModel, ValidationError

import gateway.entrypoints.schemas as schemas
from gateway.entrypoints.api.relay import DirectiveIn
from gateway.entrypoints.schemas import MULTILINE, SECRET, Body, ReasonIn, SituationIn, clean_text

DECEIVING = {
    "rlo": "RTL \u202eexe.txt",
    "lre": "a\u202ab", "pdf": "a\u202cb", "lro": "a\u202db",
    "lri": "a\u2066b", "rli": "a\u2067b", "fsi": "a\u2068b", "pdi": "a\u2069b",
    "zwsp": "zero\u200bwidth", "zwnj": "a\u200cb", "zwj": "a\u200db", "word-joiner": "a\u2060b", "bom": "\ufeffhead",
    "nul": "a\x00b", "bell": "a\x07b", "escape": "a\x1b[31mred", "del": "a\x7fb", "c1": "a\x85b",
}


@pytest.mark.parametrize("name", sorted(DECEIVING))
def test_deceiving_characters_are_refused_with_the_reason(name: str) -> None:
    with pytest.raises(ValueError) as refused:
        clean_text(DECEIVING[name], MULTILINE)
    assert "U+" in str(refused.value) and "at character" in str(refused.value)


def test_text_is_stored_in_nfc() -> None:
    decomposed = "Cafe\u0301 魏庄村"
    assert clean_text(decomposed) == unicodedata.normalize("NFC", decomposed) == "Café 魏庄村"


def test_newlines_and_tabs_only_in_multi_line_fields() -> None:
    assert clean_text("第一行\r\n第二行\t完", MULTILINE) == "第一行\n第二行\t完"
    for one_line in ("a\nb", "a\rb", "a\tb"):
        with pytest.raises(ValueError):
            clean_text(one_line)


def test_passwords_are_kept_as_typed_but_refuse_control_characters() -> None:
    assert clean_text("Cafe\u0301\u200b-pw", SECRET) == "Cafe\u0301\u200b-pw"
    with pytest.raises(ValueError):
        clean_text("pass\x00word", SECRET)


def body_models() -> list[type[BaseModel]]:
    models = [v for v in vars(schemas).values() if isinstance(v, type) and issubclass(v, Body) and v is not Body]
    return [*models, DirectiveIn]


def text_fields(model: type[BaseModel]) -> list[str]:
    def takes_text(annotation: typing.Any) -> bool:
        if annotation is str:
            return True
        return any(takes_text(a) for a in typing.get_args(annotation))

    return [name for name, f in model.model_fields.items() if takes_text(f.annotation)]


@pytest.mark.parametrize("model", body_models(), ids=lambda m: m.__name__)
def test_every_text_field_of_every_command_refuses_a_bidi_override(model: type[BaseModel]) -> None:
    """Checked through the models themselves: a new command inherits the rule by deriving from Body."""
    for name in text_fields(model):
        field = model.model_fields[name]
        if any(m is SECRET for m in field.metadata):
            continue
        is_map = any(typing.get_origin(a) is dict for a in (field.annotation, *typing.get_args(field.annotation)))
        is_list = any(typing.get_origin(a) is list for a in (field.annotation, *typing.get_args(field.annotation)))
        value = {"RTL \u202eexe": 1} if is_map else ["RTL \u202eexe"] if is_list else "RTL \u202eexe"
        with pytest.raises(ValidationError) as refused:
            model.model_validate({name: value})
        errors = [e for e in refused.value.errors() if e["loc"][:1] == (name,)]
        patterned = errors and errors[0]["type"] == "string_pattern_mismatch"  # codes, usernames: refused by their pattern
        assert errors and (patterned or "bidirectional override" in errors[0]["msg"]), (model.__name__, name, refused.value.errors())


def test_dict_keys_are_text_too() -> None:
    with pytest.raises(ValidationError):
        schemas.ReceiptIn.model_validate({"lines": {"QUILT\u200b": 1}})


def test_a_reason_may_span_lines() -> None:
    assert ReasonIn.model_validate({"reason": "道路中断\n绕行"}).reason == "道路中断\n绕行"


@pytest.mark.parametrize("figure", ["deaths", "injured", "missing", "evacuated", "affected"])
def test_situation_figures_are_bounded_so_cards_cannot_overflow(figure: str) -> None:
    assert SituationIn.model_validate({figure: 1_000_000}).figures() == {figure: 1_000_000}
    with pytest.raises(ValidationError):
        SituationIn.model_validate({figure: 10_000_000})
