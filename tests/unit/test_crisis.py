"""The crisis net: its patterns (phrases, look-alikes, rules over word sets), its learned stage and the corpus both
are checked against (tests/fixtures/crisis/, and the held-out set in tests/fixtures/crisis_heldout/).

Figures over the whole corpus are the benchmark's (`.venv/bin/python -m bench.crisis`); here the floors that must
never be crossed, and the behaviours a change must not lose.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.crisis_training import fit
from bot.data import CRISIS_MODEL_FILE, crisis_model_source, crisis_sources
from bot.domain.crisis import CrisisDetector, CrisisKind, Lexicon, Model, Verdict
from bot.domain.crisis.corpus import FORMS, NO_KINDS, REQUIRED_FORMS, YES_KINDS, Label, problems, read
from bot.domain.crisis.model import Thresholds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = read((FIXTURES / "crisis").glob("*.tsv"))
HELDOUT = read((FIXTURES / "crisis_heldout").glob("*.tsv"))
LEXICON = Lexicon.parse(crisis_sources())
PATTERNS = CrisisDetector(LEXICON)
NET = CrisisDetector(LEXICON, Model.load(crisis_model_source()))


def test_the_corpus_is_large_labelled_and_written_every_way() -> None:
    assert problems(CORPUS) == []
    assert len(CORPUS) >= 1500
    labels = [e.label for e in CORPUS]
    assert labels.count(Label.NO) >= 0.8 * labels.count(Label.YES)  # as many look-alikes as crises, near enough
    assert labels.count(Label.AMBIGUOUS) >= 100
    groups = {(e.group, e.label, e.kind) for e in CORPUS}
    for kind in YES_KINDS:
        assert sum(1 for _, label, k in groups if label is Label.YES and k == kind) >= 15, kind
    assert {k for _, label, k in groups if label is Label.NO} == set(NO_KINDS)
    forms = {e.form for e in CORPUS}
    assert forms == set(FORMS) and forms >= REQUIRED_FORMS


def test_the_held_out_set_is_apart_from_the_corpus() -> None:
    assert problems(HELDOUT) == []
    assert len(HELDOUT) >= 300
    seen = {" ".join(e.text.casefold().split()) for e in CORPUS}
    assert not [e.text for e in HELDOUT if " ".join(e.text.casefold().split()) in seen]


def test_the_shipped_model_is_the_one_the_corpus_trains() -> None:
    """Change the corpus or the phrase files, then run scripts/train_crisis_model.py: this fails until then. The
    solver's last digits differ between CPUs (BLAS, lbfgs' stopping point), so: the same words and settings, each
    weight within 0.1 (the largest drift seen across machines: 0.07), and the same verdict on every example."""
    fitted = fit(CORPUS, LEXICON)
    trained, shipped = json.loads(fitted.to_json()), json.loads(CRISIS_MODEL_FILE.read_text("utf-8"))
    assert {k: v for k, v in trained.items() if k not in ("weights", "bias", "thresholds")} == {
        k: v for k, v in shipped.items() if k not in ("weights", "bias", "thresholds")
    }
    assert trained["thresholds"].keys() == shipped["thresholds"].keys()
    for name, value in shipped["thresholds"].items():
        assert math.isclose(trained["thresholds"][name], value, abs_tol=0.01), name
    assert trained["weights"].keys() == shipped["weights"].keys()  # the vocabulary: what the corpus says
    drift = max(
        abs(a - b)
        for word, values in shipped["weights"].items()
        for a, b in zip(trained["weights"][word], values, strict=True)
    )
    assert drift <= 0.1 and math.isclose(trained["bias"], shipped["bias"], abs_tol=0.1), drift
    retrained = CrisisDetector(LEXICON, Model.load(fitted.to_json()))
    changed = [e.text for e in CORPUS + HELDOUT if retrained.assess(e.text).verdict is not NET.assess(e.text).verdict]
    assert changed == []


def test_floors_on_the_held_out_set() -> None:
    """Below the targets (those are the benchmark's, and the held-out set does not meet them yet), a floor no change
    may cross unnoticed."""
    yes = [e for e in HELDOUT if e.label is Label.YES]
    no = [e for e in HELDOUT if e.label is Label.NO]
    answered = sum(NET.assess(e.text).concerning for e in yes) / len(yes)
    alarms = sum(NET.assess(e.text).verdict is Verdict.CRISIS for e in no) / len(no)
    assert answered >= 0.95 and alarms <= 0.07, (answered, alarms)  # last measured: 0.961 and 0.063


def test_every_crisis_the_patterns_find_is_answered() -> None:
    """As a crisis, or — about news, a film or the past, or read by the model as everyday words — with the question."""
    for example in CORPUS:
        if PATTERNS.match(example.text) is not None:
            assert NET.assess(example.text).concerning, example.text


@pytest.mark.parametrize(
    "answer",
    [
        "không",
        "có",
        "help",
        "giúp",
        "tôi ổn",
        "xin chào",
        "1",
        "ok",
        "Em sẽ đợi",
        "tối nay em bận",
        "dạ em ổn ạ",
        "em cảm ơn anh nhiều ạ",
        "không sao đâu ạ",
        "Tôi muốn hỏi " + "rất " * 2500,
    ],
)
def test_an_answer_or_a_request_is_never_a_concern(answer: str) -> None:
    assert NET.assess(answer).verdict is Verdict.NOTHING


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("muốn chết", CrisisKind.SUICIDE),
        ("rạch tay", CrisisKind.SELF_HARM),
        ("quá liều", CrisisKind.OVERDOSE),
        ("cứu tôi", CrisisKind.DANGER),
        ("tôi vừa uống hết cả vỉ thuốc ngủ", CrisisKind.OVERDOSE),  # taking + quantity + substance
        ("nuot 30 vien roi", CrisisKind.OVERDOSE),
        ("took a whole bottle of sleeping pills", CrisisKind.OVERDOSE),
        ("trộn rượu với thuốc an thần", CrisisKind.OVERDOSE),  # mixing
        ("vừa chơi lại xong giờ tức ngực khó thở quá", CrisisKind.MEDICAL),  # the body after a use
        ("chest hurts after using", CrisisKind.MEDICAL),
        ("t định nhảy cầu tối nay", CrisisKind.SUICIDE),  # an intent with a means
    ],
)
def test_kinds_and_rules(message: str, kind: CrisisKind) -> None:
    found = PATTERNS.match(message)
    assert found is not None and found.kind is kind, found


@pytest.mark.parametrize(
    "message",
    [
        "uống 2 viên hạ sốt rồi",  # a dose, not an overdose
        "xem thi nhảy cầu trên tivi hay quá",  # diving, the sport
        "hút hết cả gói thuốc lá",  # cigarettes
        "chết cười với thằng này",
        "từ từ thôi em",
        "tim đập nhanh vì chạy bộ",  # the body without a use
    ],
)
def test_look_alikes_raise_no_pattern(message: str) -> None:
    assert PATTERNS.match(message) is None


def test_a_report_near_the_match_asks_and_the_person_s_own_words_further_on_do_not() -> None:
    assert PATTERNS.assess("sáng nay đọc báo thấy vụ tự tử ở cầu").verdict is Verdict.UNSURE
    assert (
        PATTERNS.assess(
            "đọc báo thấy người ta tự tử, tối về em ngồi một mình nghĩ mãi, em cũng muốn tự tử theo"
        ).verdict
        is Verdict.CRISIS
    )


def test_numbers_in_any_script_neither_crash_nor_pass_for_a_dose() -> None:
    for text in ("uống ⁵⁰ viên thuốc ngủ", "nuốt ①⑤ viên", "uống ² viên", "uống 2 viên hạ sốt"):
        PATTERNS.assess(text)  # no exception: a crisis reply must never fail on an odd character
    assert PATTERNS.match("nuốt 50 viên thuốc ngủ") is not None


def test_accent_sensitive_phrases() -> None:
    """ "tự tử" (suicide) fires; "từ từ" (slowly) does not, though both are "tu tu" without diacritics."""
    assert PATTERNS.match("tôi vừa tự tử") is not None
    assert PATTERNS.match("từ từ thôi em") is None
    assert PATTERNS.match("muon tu tu") is not None


def test_teen_code_is_read_as_the_words_it_stands_for() -> None:
    assert PATTERNS.match("mik ko mun song nx") is not None
    assert PATTERNS.match("hok mun song nua dau") is not None


def _model(weights: dict[str, tuple[float, float]]) -> Model:
    return Model(weights, -3.0, 3, 3, 32, Thresholds(unsure=0.5))


def test_three_outcomes_and_time_words_raise_urgency() -> None:
    """The model asks above its threshold, however sure it is (alarms come from patterns a counsellor can read); a
    time word makes the question a crisis; the patterns answer first."""
    pair = "\x01" + "met moi"  # a pair of words the toy model knows: (coefficient × idf, idf²)
    net = CrisisDetector(LEXICON, _model({pair: (3.0, 1.0)}))
    assert net.assess("dạo này tôi mệt mỏi quá").verdict is Verdict.UNSURE
    sure = CrisisDetector(LEXICON, _model({pair: (30.0, 1.0)}))
    assert sure.assess("dạo này tôi mệt mỏi quá").verdict is Verdict.UNSURE
    assert net.assess("tối nay tôi mệt mỏi lắm").verdict is Verdict.CRISIS
    assert net.assess("em mệt mỏi lắm").verdict is Verdict.NOTHING  # a few words are the patterns' alone
    assert net.assess("hôm nay trời đẹp").verdict is Verdict.NOTHING
    assert net.assess("muốn chết").verdict is Verdict.CRISIS  # the patterns answer first
    assert net.assess("").verdict is Verdict.NOTHING and net.assess("!!! ...").verdict is Verdict.NOTHING


def test_a_crisis_deep_in_a_long_message_is_not_diluted() -> None:
    """Read in windows: one sentence among many pages of chatter still scores as it would alone."""
    alone = NET.assess("ước gì tối nay ngủ một giấc rồi không bao giờ thức dậy nữa")
    filler = " ".join(f"hôm nay đi chợ mua rau muống số {i}" for i in range(300))
    buried = NET.assess(f"{filler}. ước gì tối nay ngủ một giấc rồi không bao giờ thức dậy nữa. {filler}")
    assert alone.concerning and buried.verdict is alone.verdict


def test_the_counselling_team_can_extend_the_lists(tmp_path: Path) -> None:
    (tmp_path / "extra.tsv").write_text(
        "suicide\tmuốn đi xa mãi\nsame\tmuonn\tmuon\nset\tsubstance\thạt mã tiền\n", "utf-8"
    )
    extended = CrisisDetector(Lexicon.parse(crisis_sources(tmp_path)))
    assert PATTERNS.match("muốn đi xa mãi") is None
    assert extended.match("muon di xa mai") is not None
    assert PATTERNS.match("vừa nuốt hết nắm hạt mã tiền") is None
    assert extended.match("vừa nuốt hết nắm hạt mã tiền") is not None


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ("suicide muốn chết", "line 1"),
        ("feelings\tsad", "line 1"),
        ("suicide\t!!!", "line 1"),
        ("rule\toverdose\ttake nothing", "unknown sets nothing, take"),
        ("rule\tfeelings\ttake", "line 1"),
    ],
)
def test_a_malformed_line_is_refused_at_start(bad: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Lexicon.parse([bad])


def test_a_malformed_corpus_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.tsv").write_text("yes\tsadness\tvi\tbuồn\n", "utf-8")
    with pytest.raises(ValueError, match="kind 'sadness'"):
        read([tmp_path / "x.tsv"])
    (tmp_path / "x.tsv").write_text("yes\tpassive\tvi\tmuốn ngủ luôn\n\nyes\tpassive\tplain\tmuốn ngủ luôn\n", "utf-8")
    assert any("missing forms" in p for p in problems(read([tmp_path / "x.tsv"])))
    assert any("'plain' has diacritics" in p for p in problems(read([tmp_path / "x.tsv"])))
