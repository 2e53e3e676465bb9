"""The KPI formulas against the worked vector of research `qa.md` §3.4 (callcentrehelper's
service level example), exactly: each ratio's numerator and denominator, and the figure shown."""

from __future__ import annotations

import pytest

from routing.kpis import formulas as f
from routing.kpis.formulas import Handling, Kpi, QueueCounts, Thresholds, Unit

# A=1000, A≤20=860, Ab=60, Ab≤20=20 (so Ab>20=40), Ab≤5=10; T=20 s, S=5 s.
VECTOR = QueueCounts(answered=1000, answered_within=860, abandoned=60, abandoned_within=20,
                     short_abandoned=10)
TH = Thresholds(service_s=20, short_s=5)


def ratio(kpi: Kpi) -> tuple[float, float, str]:
    return kpi.numerator, kpi.denominator, kpi.shown


@pytest.mark.parametrize(("kpi", "expected", "label", "formula"), [
    (f.service_level(VECTOR, TH), (860, 1000, "86.0 %"), "SL(20 s)", "A≤20 / A"),
    (f.service_level_2(VECTOR, TH), (880, 1060, "83.0 %"), "SL2(20 s)",
     "(A≤20 + Ab≤20) / (A + Ab)"),
    (f.service_level_all_abandons(VECTOR, TH), (860, 1060, "81.1 %"),
     "SL(20 s, all abandons)", "A≤20 / (A + Ab)"),
    (f.service_level_late_abandons(VECTOR, TH), (860, 1040, "82.7 %"),
     "SL(20 s, abandons after 20 s)", "A≤20 / (A + Ab − Ab≤20)"),
    (f.service_level_excl_short(VECTOR, TH), (860, 1050, "81.9 %"),
     "SL(20 s, excl. short ≤ 5 s)", "A≤20 / (A + Ab − Ab≤5)"),
    (f.abandon_rate(VECTOR), (60, 1060, "5.7 %"), "Abandoned", "Ab / (A + Ab)"),
    (f.abandon_rate_excl_short(VECTOR, TH), (50, 1050, "4.8 %"),
     "Abandoned (excl. short ≤ 5 s)", "(Ab − Ab≤5) / (A + Ab − Ab≤5)"),
    (f.answer_rate(VECTOR), (1000, 1060, "94.3 %"), "Answer rate", "A / (A + Ab + F)"),
])  # fmt: skip
def test_the_worked_vector(kpi: Kpi, expected: tuple[int, int, str], label: str,
                           formula: str) -> None:  # fmt: skip
    assert ratio(kpi) == expected
    assert (kpi.label, kpi.formula, kpi.unit) == (label, formula, Unit.PERCENT)


def test_the_worked_vector_to_the_table_s_precision() -> None:
    """The table gives the abandon rate to two decimals: 5.66 %."""
    value = f.abandon_rate(VECTOR).value
    assert value is not None and round(value * 100, 2) == 5.66
    shown = [round(100 * (k.value or 0), 1) for k in (
        f.service_level(VECTOR, TH), f.service_level_2(VECTOR, TH),
        f.service_level_all_abandons(VECTOR, TH), f.service_level_late_abandons(VECTOR, TH),
        f.service_level_excl_short(VECTOR, TH))]  # fmt: skip
    assert shown == [86.0, 83.0, 81.1, 82.7, 81.9]


@pytest.mark.parametrize(("options", "den", "shown", "label"), [
    ({}, 1060, "81.1 %", "SL(20 s, general)"),
    ({"short_abandons": False}, 1050, "81.9 %", "SL(20 s, general: excl. short ≤ 5 s)"),
    ({"abandons": False}, 1000, "86.0 %", "SL(20 s, general: no abandons)"),
    ({"flow_outs": True}, 1060 + 40, "78.2 %", "SL(20 s, general: flow-outs in)"),
])  # fmt: skip
def test_the_general_form_meets_each_named_variant(options: dict[str, bool], den: int,
                                                   shown: str, label: str) -> None:
    counts = QueueCounts(1000, 860, 60, 20, 10, flow_outs=40)
    kpi = f.service_level_general(counts, TH, **options)
    assert (kpi.numerator, kpi.denominator, kpi.shown, kpi.label) == (860, den, shown, label)


def test_general_formula_names_its_terms() -> None:
    kpi = f.service_level_general(VECTOR, TH, flow_outs=True, short_abandons=False)
    assert kpi.formula == "(A − A>20) / (A + Ab + F − Ab≤5)"


def test_times_and_scores() -> None:
    assert ratio(f.asa(1234.0, 100)) == (1234.0, 100, "12.3 s")
    h = Handling(talk_s=3000.0, hold_s=120.0, wrapup_s=500.0, handled=20)
    aht = f.aht(h)
    assert ratio(aht) == (3620.0, 20, "181.0 s")
    assert aht.label == "AHT (talk + hold + wrap-up)"
    assert ratio(f.occupancy(h, 1380.0)) == (3620.0, 5000.0, "72.4 %")
    assert ratio(f.transfer_rate(3, 20)) == (3, 20, "15.0 %")
    assert ratio(f.csat(7, 9)) == (7, 9, "77.8 %")
    assert ratio(f.survey_mean(38, 9)) == (38, 9, "4.22")
    assert ratio(f.containment(4, 10)) == (4, 10, "40.0 %")
    assert ratio(f.complaint_rate(1, 8)) == (1, 8, "12.5 %")
    fcr = f.first_call_resolution(17, 20, 7)
    assert (ratio(fcr), fcr.label) == ((17, 20, "85.0 %"), "FCR(no repeat ≤ 7 d)")


@pytest.mark.parametrize("kpi", [
    f.service_level(QueueCounts(), TH), f.service_level_2(QueueCounts(), TH),
    f.service_level_all_abandons(QueueCounts(), TH),
    f.service_level_late_abandons(QueueCounts(), TH),
    f.service_level_excl_short(QueueCounts(), TH), f.abandon_rate(QueueCounts()),
    f.abandon_rate_excl_short(QueueCounts(), TH), f.answer_rate(QueueCounts()),
    f.asa(0.0, 0), f.aht(Handling()), f.occupancy(Handling(), 0.0),
    f.transfer_rate(0, 0), f.first_call_resolution(0, 0, 7), f.csat(0, 0),
    f.survey_mean(0, 0), f.containment(0, 0), f.complaint_rate(0, 0),
])  # fmt: skip
def test_an_empty_interval_is_not_applicable_not_zero(kpi: Kpi) -> None:
    assert (kpi.value, kpi.shown) == (None, "n/a")


def test_only_short_abandons_leave_nothing_to_divide() -> None:
    only_short = QueueCounts(abandoned=3, abandoned_within=3, short_abandoned=3)
    assert f.service_level_excl_short(only_short, TH).shown == "n/a"
    assert f.abandon_rate_excl_short(only_short, TH).shown == "n/a"
    assert f.abandon_rate(only_short).shown == "100.0 %"


def test_occupancy_without_idle_time_is_not_applicable() -> None:
    kpi = f.occupancy(Handling(talk_s=60.0, handled=1), None)
    assert (kpi.value, kpi.shown) == (None, "n/a")


def test_shown_rounds_half_up_on_the_exact_value() -> None:
    assert Kpi("x", "x", "x", 1, 8, Unit.PERCENT).shown == "12.5 %"
    assert Kpi("x", "x", "x", 1, 1600, Unit.PERCENT).shown == "0.1 %"  # 0.0625 % -> 0.1
    assert Kpi("x", "x", "x", 0.05, 1, Unit.SECONDS).shown == "0.1 s"


def test_thresholds_name_themselves_and_refuse_short_at_or_above_t() -> None:
    th = Thresholds(service_s=30, short_s=2.5)
    assert f.service_level_excl_short(VECTOR, th).label == "SL(30 s, excl. short ≤ 2.5 s)"
    for short in (30, 31, -1):
        with pytest.raises(ValueError, match="short abandon"):
            Thresholds(service_s=30, short_s=short)


def test_inconsistent_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        QueueCounts(answered=1, answered_within=2)
    with pytest.raises(ValueError, match="inconsistent"):
        QueueCounts(abandoned=2, abandoned_within=1, short_abandoned=2)
