"""Book mechanics that chapters rely on for their checks."""

import numpy as np
import pytest

import dlnlib
from dlnlib import book


def test_coordinate_nudges_give_the_gradient_of_the_squared_loss():
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(s) for s in [(3, 4), (4, 2)]]
    xs, ys = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    targets = rng.standard_normal(5)
    h = 1e-5
    fd = [np.zeros_like(w) for w in weights]
    count = 0
    for l, idx, up, down in book.coordinate_nudges(weights, h):
        loss_up = dlnlib.squared_loss(up, xs, ys, targets)
        loss_down = dlnlib.squared_loss(down, xs, ys, targets)
        fd[l][idx] = (loss_up - loss_down) / (2 * h)
        count += 1
    assert count == 3 * 4 + 4 * 2
    # the loss is (1/2) sum_i (x_i^T W y_i - t_i)^2 (setup), whose gradient
    # in W_l is sum_i r_i A_l^T x_i (B_l y_i)^T, r_i the residual
    residuals = dlnlib.predict(weights, xs, ys) - targets
    grads = [np.zeros_like(w) for w in weights]
    for x, y, r in zip(xs, ys, residuals):
        for l, g in enumerate(dlnlib.layer_gradients(weights, x, y)):
            grads[l] += r * g
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(f, g, rtol=1e-7, atol=1e-9)


def test_coordinate_nudges_leave_the_weights_alone_and_reject_bad_steps():
    weights = [np.ones((2, 2)), np.ones((2, 2))]
    list(book.coordinate_nudges(weights, 0.1))
    assert all(np.all(w == 1) for w in weights)
    for h in (0.0, -1e-3, np.nan, np.inf):
        with pytest.raises(ValueError, match="the step h must be a positive"):
            list(book.coordinate_nudges(weights, h))


@pytest.fixture
def shown(monkeypatch):
    """The objects a claim or a table hands to IPython's display, in order."""
    store = []
    monkeypatch.setattr(book, "_display", store.append)
    return store


@pytest.fixture
def glued(monkeypatch):
    """What the glue functions hand to myst-nb, by key."""
    store = {}
    monkeypatch.setattr(book, "_glue", store.__setitem__)
    return store


def test_glued_numbers_are_rounded_and_percentages_scaled(glued):
    assert book.rounded(3.14159) == 3.14 and book.rounded(0.012345, 2) == 0.012
    # the glue calls return nothing: a glue at the end of a cell shows no output
    assert book.glue_number("t_number", 3.14159, 3) is None
    book.glue_excess("t_excess", 0.012345)
    book.glue_excess("t_excess3", 0.012345, 3)
    book.glue_percent("t_percent", 1.012345)
    book.glue_int("t_int", np.int64(7))
    book.glue_text("t_text", 25)
    assert glued == {
        "t_number": 3.14,
        "t_excess": 1.2,
        "t_excess3": 1.23,
        "t_percent": 1.2,
        "t_int": 7,
        "t_text": "25",
    }
    assert type(glued["t_int"]) is int


# --- the results layer: claims, verdicts, the ledger, tables ---------------------------------------


def test_claims_mode_comes_from_the_environment_and_refuses_other_values(
    monkeypatch,
):
    monkeypatch.delenv(book.MODE_VARIABLE, raising=False)
    assert book.claims_mode() == "reader"
    monkeypatch.setenv(book.MODE_VARIABLE, "strict")
    assert book.claims_mode() == "strict"
    assert book.Claims("t").mode == "strict"
    monkeypatch.setenv(book.MODE_VARIABLE, "lenient")
    with pytest.raises(ValueError, match="DLNLIB_CLAIMS must be 'reader' or"):
        book.claims_mode()
    with pytest.raises(ValueError, match="mode must be"):
        book.Claims("t", mode="loose")
    with pytest.raises(ValueError, match="prefix must be"):
        book.Claims("Setup page", mode="strict")


def test_a_held_claim_shows_one_verdict_line_with_its_numbers(capsys, glued):
    claims = book.Claims("t", mode="strict")
    claims.check(
        r"finite differences match {eq}`setup-grad` to {err:.1e} for"
        r" $\tilde W$ of widths {dims}",
        np.array([True, True]),
        err=3.21e-11,
        dims=(4, 5, 3),
        glue={"err": 1},
    )
    out = capsys.readouterr().out
    assert out == (
        "✓ finite differences match (setup-grad) to 3.2e-11 for $\\tilde W$"
        " of widths (4, 5, 3)\n"
    )
    assert glued == {"t_err": 3e-11}
    (record,) = claims.records
    assert record["held"] is True
    assert record["numbers"] == {"err": "3.21e-11", "dims": "(4, 5, 3)"}
    assert "{eq}`setup-grad`" in record["claim"]


def test_a_failed_claim_raises_in_strict_mode_and_goes_on_in_reader_mode(
    capsys,
):
    strict = book.Claims("t", mode="strict")
    with pytest.raises(
        book.ClaimError, match=r"claim failed: ratio 1.5 < 1.1"
    ):
        strict.check("ratio {r} < 1.1", 1.5 < 1.1, r=1.5)
    reader = book.Claims("t", mode="reader")
    reader.check("ratio {r} < 1.1", 1.5 < 1.1, r=1.5)
    reader.check("the next claim still runs", True)
    out = capsys.readouterr().out
    assert "✗ claim failed: ratio 1.5 < 1.1" in out
    assert "✓ the next claim still runs" in out
    assert [r["held"] for r in reader.records] == [False, True]
    assert reader.failed == [reader.records[0]]


def test_the_failure_box_and_the_verdict_have_html_and_myst_forms(shown):
    reader = book.Claims("t", mode="reader")
    reader.check(r"$x < {x}$ and {eq}`a-b`", False, x=1)
    reader.check(r"$\|W\|_* = {v}$", True, v=2)
    failed, held = (b._repr_mimebundle_() for b in shown)
    assert "Claim failed" in failed["text/html"]
    assert "$x &lt; 1$ and (a-b)" in failed["text/html"]
    assert failed["text/markdown"].startswith(":::{error} Claim failed\n")
    assert (
        held["text/markdown"] == "{.dln-claim}\n[✓]{.dln-held} $\\|W\\|_* = 2$"
    )
    assert held["text/plain"] == "✓ $\\|W\\|_* = 2$"


@pytest.mark.parametrize(
    "holds, error",
    [
        (0.5, TypeError),
        (np.array([0.1, 0.2]), TypeError),
        (np.array([], dtype=bool), ValueError),
    ],
)
def test_a_claim_refuses_a_test_that_is_no_verdict(holds, error):
    claims = book.Claims("t", mode="reader")
    with pytest.raises(error):
        claims.check("something", holds)
    assert claims.records == []


def test_sympy_verdicts_count_and_undecided_fails(capsys):
    import sympy as sp

    claims = book.Claims("t", mode="reader")
    x = sp.Symbol("x")
    claims.check("sympy decided", sp.true)
    claims.check("sympy undecided", (x - 1).is_positive)
    claims.check("numpy scalar", np.bool_(True))
    assert [r["held"] for r in claims.records] == [True, False, True]


def test_fields_are_the_numbers_given_and_nothing_else():
    numbers = {"tr": 3.0, "a": 1, "n": 12}
    text = r"$\operatorname{tr} H = {tr:.1f}$, $e_{a}$, {eq}`n` and {n} and {missing}"
    assert book.fill(text, numbers) == (
        r"$\operatorname{tr} H = 3.0$, $e_1$, {eq}`n` and 12 and {missing}"
    )
    with pytest.raises(ValueError, match="glue names 'nope'"):
        book.Claims("t", mode="strict").check("x", True, glue=("nope",), x=1)
    with pytest.raises(TypeError, match="numbers must be numbers"):
        book.Claims("t", mode="strict").check("{x}", True, x={"a": 1})


def test_refuses_records_the_message_and_fails_without_a_refusal(capsys):
    claims = book.Claims("t", mode="reader")
    with claims.refuses("width {w} is refused: {message}", w=1) as refusal:
        raise ValueError("hidden width 1 is below rank 2")
    assert refusal.message == "hidden width 1 is below rank 2"
    with claims.refuses("nothing is refused here"):
        pass
    assert [r["held"] for r in claims.records] == [True, False]
    assert "✓ width 1 is refused: hidden width 1" in capsys.readouterr().out
    with pytest.raises(TypeError, match="not a refusal"):
        with claims.refuses("a bad width is refused"):
            raise TypeError("not a refusal")
    strict = book.Claims("t", mode="strict")
    with pytest.raises(book.ClaimError, match="claim failed: no refusal"):
        with strict.refuses("no refusal"):
            pass
    with strict.refuses("overflow is refused", FloatingPointError):
        raise FloatingPointError("diverged")


def test_a_rerun_claim_replaces_its_record_and_the_ledger_lists_all(shown):
    claims = book.Claims("t", mode="reader")
    claims.check("first {v}", True, v=1)
    claims.check("second", False)
    claims.check("first {v}", True, v=1)  # the same cell run again
    assert len(claims.records) == 2
    shown.clear()
    claims.ledger()
    (tab,) = shown
    bundle = tab._repr_mimebundle_()
    assert bundle["application/vnd.dlnlib.ledger+json"] == {
        "claims": claims.records
    }
    assert ":name: tbl-t-ledger" in bundle["text/markdown"]
    assert "1 held, 1 failed." in bundle["text/plain"]
    assert "✗ failed" in bundle["text/plain"]
    assert "[✓ held]{.dln-held}" in bundle["text/markdown"]


def test_a_table_has_a_plain_an_html_and_a_myst_form():
    rows = [(2, 1.0312, "$\\|W\\|_*$"), (3, -0.5, "")]
    tab = book.Table(
        rows,
        caption="Ratios at depth $L$.",
        name="tbl-t-ratios",
        header=["$L$", "ratio", "what"],
        formats=["d", ".3f", None],
    )
    assert str(tab).splitlines() == [
        "Table: Ratios at depth $L$.",
        "$L$  ratio      what",
        "  2  1.031 $\\|W\\|_*$",
        "  3 -0.500          ",
    ]
    md = tab._repr_mimebundle_()["text/markdown"]
    assert md.startswith(
        "~~~{list-table} Ratios at depth $L$.\n:name: tbl-t-ratios"
    )
    assert "* - 3\n  - \\-0.500\n  - \u2014" in md  # an empty cell is a dash
    html = tab._repr_mimebundle_()["text/html"]
    assert "Ratios at depth $L$." in html and "1.031" in html
    # the HTML is the same on every run (nbval compares it)
    assert (
        html
        == book.Table(
            rows,
            caption="Ratios at depth $L$.",
            name="tbl-t-ratios",
            header=["$L$", "ratio", "what"],
            formats=["d", ".3f", None],
        )._repr_mimebundle_()["text/html"]
    )


def test_a_table_takes_a_dataframe_and_refuses_bad_shapes():
    import pandas as pd

    frame = pd.DataFrame({"L": [2, 3], "ratio": [1.01, 1.02]})
    tab = book.Table(frame, caption="From a frame.", name="tbl-t-frame")
    assert tab.header == ["L", "ratio"] and tab.body[1] == ["3", "1.02"]
    with pytest.raises(ValueError, match="'tbl-...'"):
        book.Table(frame, caption="c", name="table-1")
    with pytest.raises(ValueError, match="needs a caption"):
        book.Table(frame, caption="", name="tbl-t-x")
    with pytest.raises(ValueError, match="a row has 1 entries for 2 columns"):
        book.Table([(1,)], caption="c", name="tbl-t-x", header=["a", "b"])
    with pytest.raises(ValueError, match="plain rows need a header"):
        book.Table([(1,)], caption="c", name="tbl-t-x")
    with pytest.raises(ValueError, match="1 formats for 2 columns"):
        book.Table(frame, caption="c", name="tbl-t-x", formats=["d"])


def test_plain_text_drops_roles_and_verdict_spans():
    assert book.plain_text("[✓ held]{.dln-held} see {numref}`tbl-x`") == (
        "✓ held see tbl-x"
    )
    assert book.plain_text("{doc}`the construction <construction>`") == (
        "the construction"
    )


@pytest.mark.parametrize(
    "cell, myst",
    [
        ("#", "\\#"),
        ("-0.5", "\\-0.5"),
        ("> 3", "\\> 3"),
        ("2.", "2\\."),
        ("2.5", "2.5"),
        ("6e-11", "[6e-11]{.dln-num}"),
        ("-4.2e-03 and 7e+02", "[-4.2e-03]{.dln-num} and [7e+02]{.dln-num}"),
        ("$10^{-3}$ 1e-3", "$10^{-3}$ 1e-3"),
        ("", "\u2014"),
        ("a\nb", "a b"),
    ],
)
def test_a_table_cell_is_never_a_heading_a_list_or_a_quote_in_myst(cell, myst):
    assert book._myst_cell(cell) == myst


def test_claims_glue_hands_each_value_to_the_prose_by_its_type(glued):
    claims = book.Claims("t", mode="strict")
    assert claims.glue(n=np.int64(12), gap=0.012345, shape="3 x 4") is None
    claims.glue(digits=2, ratio=np.float64(1.23456))
    assert glued == {
        "t_n": 12,
        "t_gap": 0.0123,
        "t_shape": "3 x 4",
        "t_ratio": 1.2,
    }
    assert type(glued["t_n"]) is int
    for bad, what in ((True, "a bool is no number"), ([1, 2], "got list")):
        with pytest.raises(TypeError, match=what):
            claims.glue(good=1.0, bad=bad)
    assert "t_bad" not in glued and "t_good" not in glued
