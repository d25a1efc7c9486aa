"""dlnlib.ranges: a chapter's parameter ranges written once, as data."""

import math

import numpy as np
import pytest

from dlnlib.ranges import (
    EXPLORING,
    PREFIX,
    RANGES_ENV,
    Spec,
    choice,
    integer,
    mapping,
    real,
    sequence,
)


def refused(spec, values, *fragments):
    """``spec.check(values)`` raises a range error whose message holds every fragment."""
    with pytest.raises(ValueError) as info:
        spec.check(values)
    message = str(info.value)
    assert message.startswith(PREFIX), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- kinds ---------------------------------------------------------------------------------------


def test_integer_bounds_are_included_and_the_kind_is_checked():
    spec = Spec(n=integer(4, 16, why="claims are over >= 4 chains"))
    for n in (4, 9, 16, np.int64(16)):
        spec.check({"n": n})
    message = refused(spec, {"n": 17})
    assert message == (
        "parameter out of range: n = 17 must be 4..16: claims are over >= 4 chains"
    )
    refused(spec, {"n": 3}, "n = 3 must be 4..16")
    spec.check({"n": 8.0})  # a whole float, as dlnlib's functions take it
    refused(spec, {"n": 8.5}, "n = 8.5 must be 4..16 (not an integer)")
    refused(spec, {"n": True}, "(not an integer)")
    refused(spec, {"n": "8"}, "(not an integer)")


def test_integer_with_one_bound_and_seed_like_knobs():
    spec = Spec(seed=integer(0))
    assert spec.knobs["seed"].text == ">= 0"
    spec.check({"seed": 10**30})
    refused(spec, {"seed": -1}, "seed = -1 must be >= 0")
    assert integer(None, 5).text == "<= 5"
    assert integer().text == "any integer"


def test_real_accepts_ints_refuses_nan_and_infinity_and_open_bounds():
    spec = Spec(
        lr=real(0.01, 0.05),
        step=real(0, 5.0, lo_open=True, text="each in (0, 5]"),
        scale=real(0),
    )
    values = {"lr": 0.01, "step": 5, "scale": 1e300}
    spec.check(values)
    refused(
        spec, {**values, "lr": 0.0500001}, "lr = 0.0500001 must be 0.01..0.05"
    )
    refused(spec, {**values, "step": 0.0}, "step = 0 must be each in (0, 5]")
    refused(spec, {**values, "scale": math.inf}, "(not finite)")
    refused(spec, {**values, "scale": math.nan}, "(not finite)")
    refused(spec, {**values, "lr": np.float64(0.2)}, "lr = 0.2 must be")
    assert real(0, lo_open=True).text == "> 0"
    assert real(0, 5, lo_open=True).text == "(0, 5]"


def test_range_texts_as_the_comments_write_them():
    assert real(1e-12, 1e-6).text == "1e-12..1e-6"
    assert real(0.3, 1.0).text == "0.3..1"
    assert real(1e-4, 1e16).text == "0.0001..1e16"
    assert integer(20, 2000).text == "20..2000"
    assert choice(2, 3, 4).text == "2, 3 or 4"
    assert sequence(integer(2, 8)).text == "each 2..8"
    assert sequence(integer(1, 2), min_len=3, max_len=4).text == "3..4 of 1..2"


def test_choice():
    spec = Spec(mode=choice("fast", "slow"), depth=choice(2, 3, 4))
    spec.check({"mode": "slow", "depth": 3})
    refused(
        spec,
        {"mode": "medium", "depth": 3},
        "mode = 'medium' must be 'fast' or 'slow'",
    )
    refused(spec, {"mode": "fast", "depth": 5}, "depth = 5 must be 2, 3 or 4")
    # just outside: a number past the ends, for other choices a value of none of them
    outside = spec.outside({"mode": "slow", "depth": 3})
    assert outside == [{"mode": "none of these"}, {"depth": 1}, {"depth": 5}]
    refused(spec, {"mode": "none of these", "depth": 3}, "mode = ")


def test_sequence_lengths_and_elements():
    spec = Spec(
        dims=sequence(integer(1, 8), min_len=3, text="L >= 2, 1..8"),
        shapes=sequence(sequence(integer(1, 8), min_len=2, max_len=2)),
    )
    good = {"dims": (4, 5, 3, 2), "shapes": [[3, 3], (2, 4)]}
    spec.check(good)
    spec.check({**good, "dims": [1, 1, 1], "shapes": []})
    refused(
        spec,
        {**good, "dims": (4, 9)},
        "dims = (4, 9) must be L >= 2, 1..8 (length 2)",
    )
    refused(spec, {**good, "dims": (4, 9, 2)}, "(element 9 not 1..8)")
    refused(
        spec, {**good, "dims": (4, 2.5, 2)}, "(element 2.5 not an integer)"
    )
    refused(spec, {**good, "dims": 4}, "(not a list or tuple)")
    refused(spec, {**good, "dims": "448"}, "(not a list or tuple)")
    refused(
        spec,
        {**good, "shapes": [[3, 3, 3]]},
        "shapes = [[3, 3, 3]]",
        "(element [3, 3, 3] length 3)",
    )


def test_mapping_reads_the_needed_keys_only():
    spec = Spec(
        depths=sequence(choice(2, 3, 4), min_len=1),
        lr=mapping(
            {2: real(0, 5.0, lo_open=True), 3: real(0, 1.0, lo_open=True)},
            keys=lambda p: p.depths,
            text="each in (0, default]",
            why="larger steps diverge",
        ),
    )
    spec.check({"depths": [2], "lr": {2: 5.0, 3: 99.0}})  # 3 is not run
    refused(
        spec,
        {"depths": [2, 3], "lr": {2: 5.0, 3: 2.0}},
        "lr = {2: 5.0, 3: 2.0} must be each in (0, default] (entry 3: 2 not"
        " (0, 1]):"
        " larger steps diverge",
    )
    refused(spec, {"depths": [3], "lr": {2: 1.0}}, "(no entry for 3)")
    refused(spec, {"depths": [4], "lr": {4: 1.0}}, "(no range for the key 4)")
    refused(spec, {"depths": [2], "lr": [5.0]}, "(not a dict)")


# --- dependent bounds and couplings --------------------------------------------------------------


def test_a_dependent_bound_reads_the_knobs_before_it_and_shows_its_value():
    spec = Spec(
        sens_d=integer(8, 12),
        sens_n=integer(
            lambda p: 2.5 * p.sens_d,
            lambda p: 3 * p.sens_d,
            text="2.5 sens_d..3 sens_d",
            why="with more, the references coincide",
        ),
    )
    spec.check({"sens_d": 10, "sens_n": 25})
    spec.check({"sens_d": 10, "sens_n": 30})
    message = refused(spec, {"sens_d": 10, "sens_n": 24})
    assert message == (
        "parameter out of range: sens_n = 24 must be 2.5 sens_d..3 sens_d"
        " (here 25..30): with more, the references coincide"
    )
    # the knob to change is named first: sens_d, not the sens_n that follows it
    refused(spec, {"sens_d": 20, "sens_n": 50}, "sens_d = 20 must be 8..12")


def test_a_bound_may_not_read_a_later_knob_or_an_unknown_name():
    backwards = Spec(
        n=integer(lambda p: 2 * p.d, text="n >= 2 d"), d=integer(1, 9)
    )
    with pytest.raises(TypeError, match="reads d, which is declared after"):
        backwards.check({"n": 4, "d": 2})
    unknown = Spec(n=integer(lambda p: p.dd, text="n >= dd"))
    with pytest.raises(TypeError, match="dd is no knob"):
        unknown.check({"n": 4})


def test_length_limits_may_depend_on_knobs():
    spec = Spec(
        bal_d=integer(3, 6),
        bal_sigma=sequence(
            real(0, lo_open=True),
            min_len=2,
            max_len=lambda p: p.bal_d,
            text="2..bal_d",
        ),
    )
    spec.check({"bal_d": 3, "bal_sigma": [3.0, 2.0, 1.0]})
    refused(
        spec, {"bal_d": 3, "bal_sigma": [4.0, 3.0, 2.0, 1.0]}, "(length 4)"
    )
    refused(spec, {"bal_d": 3, "bal_sigma": [1.0, 0.0]}, "(element 0 not > 0)")


def test_couplings_come_after_every_knob_and_show_what_they_got():
    spec = Spec(lr=real(0.01, 0.05), steps=integer(100_000, 400_000))
    spec.couple(
        lambda p: p.lr**2 * p.steps >= 100,
        "label noise needs time: lr^2 steps must be >= 100",
        got=lambda p: p.lr**2 * p.steps,
    )
    spec.couple(lambda p: p.steps % 2 == 0, "steps must be even")
    spec.check({"lr": 0.05, "steps": 200_000})
    message = refused(spec, {"lr": 0.02, "steps": 200_000})
    assert message == (
        "parameter out of range: label noise needs time: lr^2 steps must be"
        " >= 100, got 80"
    )
    refused(spec, {"lr": 0.05, "steps": 200_001}, "steps must be even")
    # a knob out of its own range is named before any coupling is read
    refused(spec, {"lr": 0.005, "steps": 1}, "lr = 0.005 must be 0.01..0.05")


def test_check_reads_only_the_knobs_and_needs_all_of_them():
    spec = Spec(n=integer(1, 200))
    spec.check({"n": 12, "In": [], "anything": object()})
    with pytest.raises(NameError, match="no value for the knobs n"):
        spec.check({"m": 12})
    assert spec.defaults({"n": 12, "x": 1}) == {"n": 12}
    assert spec.names == ["n"]


def test_explore_mode_shows_the_problem_and_goes_on(monkeypatch, capsys):
    spec = Spec(n=integer(1, 200))
    monkeypatch.setenv(RANGES_ENV, "explore")
    spec.check({"n": 12})
    assert capsys.readouterr().out == ""  # inside: nothing to say
    spec.check({"n": 0})
    shown = capsys.readouterr().out
    assert shown.startswith(EXPLORING + "n = 0 must be 1..200"), shown
    assert "the claims below are not promised" in shown
    monkeypatch.setenv(RANGES_ENV, "strict")
    refused(spec, {"n": 0}, "n = 0 must be 1..200")
    monkeypatch.setenv(RANGES_ENV, "")  # empty: the default, strict
    refused(spec, {"n": 0}, "n = 0 must be 1..200")


def test_a_misspelt_ranges_mode_is_refused(monkeypatch):
    monkeypatch.setenv(RANGES_ENV, "explor")
    with pytest.raises(ValueError, match="DLNLIB_RANGES must be 'strict' or"):
        Spec(n=integer(1, 200)).check({"n": 0})


# --- bad specs are refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: integer(5, 4), ValueError),
        (
            lambda: integer(lambda p: p.d),
            TypeError,
        ),  # a dependent bound needs a text
        (
            lambda: integer(1, 8, text="1..9"),
            ValueError,
        ),  # the text names other bounds
        (lambda: real(1e-7, 1e-3, text="1e-7..1e-2"), ValueError),
        (lambda: integer(0, text=">= 1"), ValueError),
        (lambda: real(0, math.inf), TypeError),
        (lambda: integer("1", 8), TypeError),
        (lambda: real(None, 1, lo_open=True), ValueError),
        (lambda: integer(1, 8, text=""), TypeError),
        (lambda: choice(), ValueError),
        (lambda: sequence([1, 2]), TypeError),
        (lambda: sequence(integer(1, 8), min_len=4, max_len=3), ValueError),
        (lambda: sequence(integer(1, 8), max_len=lambda p: p.d), TypeError),
        (lambda: mapping({}, text="x"), TypeError),
        (lambda: mapping({2: 5.0}, text="x"), TypeError),
        (lambda: Spec(n=(1, 200)), TypeError),
    ],
)
def test_bad_specs_are_refused(make, error):
    with pytest.raises(error):
        make()


def test_bad_couplings_are_refused():
    spec = Spec(n=integer(1, 200))
    with pytest.raises(TypeError):
        spec.couple(True, "n must be even")
    with pytest.raises(TypeError):
        spec.couple(lambda p: True, "")
    with pytest.raises(TypeError):
        spec.couple(lambda p: True, "fine", got=3)


def test_texts_in_other_words_are_not_read():
    assert integer(100_000, 400_000, text="1e5..4e5").text == "1e5..4e5"
    assert integer(20_000, 200_000, text="20_000..200_000").text
    assert real(1e-5, 1e-1, text="within 1e-5..1e-1").text


# --- values for sweeps ---------------------------------------------------------------------------


def sens_spec():
    spec = Spec(
        sens_d=integer(8, 12),
        sens_n=integer(
            lambda p: 2.5 * p.sens_d,
            lambda p: 3 * p.sens_d,
            text="2.5 sens_d..3 sens_d",
        ),
        lr=real(0.01, 0.05),
        steps=integer(100_000, 400_000, text="1e5..4e5"),
        depths=sequence(integer(2, 4), min_len=1, text="each 2..4"),
        mode=choice("fast", "slow"),
    )
    spec.couple(lambda p: p.lr**2 * p.steps >= 100, "lr^2 steps >= 100")
    spec.couple(
        lambda p: list(p.depths) == sorted(set(p.depths)), "depths ascending"
    )
    defaults = {
        "sens_d": 10,
        "sens_n": 30,
        "lr": 0.05,
        "steps": 200_000,
        "depths": [2, 3],
        "mode": "fast",
    }
    return spec, defaults


def test_edges_move_one_knob_to_each_end_honouring_the_couplings():
    spec, defaults = sens_spec()
    edges = spec.edges(defaults)
    assert edges == [
        {"sens_d": 8, "sens_n": 24},  # sens_n clamped into its moved range
        {"sens_d": 12},
        {"sens_n": 25},
        {"lr": 0.0224},  # not 0.01: lr^2 steps >= 100 stops it
        {"steps": 100_000},
        {"steps": 400_000},
        {"depths": [2, 4]},  # the largest element to the upper end
        {"depths": [2]},  # the shortest
        {"mode": "slow"},
    ]
    for edge in edges:
        spec.check({**defaults, **edge})
    assert all(edge != {} for edge in edges)
    # with more steps the coupling lets lr go further down (sqrt(100 / 4e5))
    assert {"lr": 0.016} in spec.edges({**defaults, "steps": 400_000})


def test_edges_with_interior_values_stay_inside_and_in_order():
    spec, defaults = sens_spec()
    values = [
        e["steps"] for e in spec.edges(defaults, interior=2) if "steps" in e
    ]
    assert values == [100_000, 300_000, 400_000]  # 200_000 is the default
    spec2 = Spec(tol=real(1e-12, 1e-6))
    tols = [e["tol"] for e in spec2.edges({"tol": 1e-10}, interior=1)]
    assert tols == [1e-12, 1e-9, 1e-6]  # geometric between far-apart ends


def test_edges_refuse_defaults_out_of_range():
    spec, defaults = sens_spec()
    with pytest.raises(ValueError, match="the defaults are out of range"):
        spec.edges({**defaults, "sens_n": 40})


def test_outside_values_are_refused_naming_the_moved_knob():
    spec, defaults = sens_spec()
    outside = spec.outside(defaults)
    moved = {name for o in outside for name in o}
    assert moved == {"sens_d", "sens_n", "lr", "steps", "depths", "mode"}
    assert {"sens_n": 24} in outside and {"sens_n": 31} in outside
    assert {"steps": 99_999} in outside and {"depths": []} in outside
    assert {"depths": [2, 5]} in outside and {"depths": [1, 3]} in outside
    assert {"lr": math.nextafter(0.05, 1)} in outside
    for values in outside:
        ((name, value),) = values.items()
        with pytest.raises(ValueError, match=f"^{PREFIX}{name} = "):
            spec.check({**defaults, name: value})


def test_spec_of_names_the_chapters_when_the_name_is_wrong():
    from dlnlib.chapter_ranges import CHAPTERS, spec_of

    with pytest.raises(ValueError, match="no chapter named 'setp'.*setup"):
        spec_of("setp")
    with pytest.raises(ValueError, match="no chapter named"):
        spec_of(None)
    # a new spec at each call
    assert spec_of(CHAPTERS[0]) is not spec_of(CHAPTERS[0])
