import numpy as np
import pytest

from drnets.core import ELEMENTS, InputError, cation_fractions, check_elements, parse_formula


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("(Li0.63Fe0.37)FeO2", {"Li": 0.63, "Fe": 1.37, "O": 2.0}),
        ("Fe+2Al2O4", {"Fe": 1, "Al": 2, "O": 4}),
        ("BiV1.025O4+x", {"Bi": 1, "V": 1.025, "O": 4}),
        ("(Al2O3)1.333", {"Al": 2.666, "O": 3.999}),
        ("Cu1.98(V1.96O6.92)", {"Cu": 1.98, "V": 1.96, "O": 6.92}),
        ("Cu11(VO4)6O2", {"Cu": 11, "V": 6, "O": 26}),
        ("SnO2", {"Sn": 1, "O": 2}),
    ],
)
def test_parse_formula(formula, expected):
    got = parse_formula(formula)
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v)


@pytest.mark.parametrize(
    "bad", ["", "Xx2O", "(Fe2O3", "Fe2O3)", "2Fe", "Fe2O3$", "Fe" + "9" * 400 + "O", "(Fe2000)2000O"]
)
def test_parse_formula_rejects(bad):
    with pytest.raises(InputError):
        parse_formula(bad)


def test_cation_fractions_ignore_oxygen_and_flag_foreign():
    frac, foreign = cation_fractions("LiFe5O8", ("Al", "Li", "Fe"))
    np.testing.assert_allclose(frac, [0, 1 / 6, 5 / 6])
    assert foreign == []
    frac, foreign = cation_fractions("SnO2", ("Bi", "Cu", "V"))
    assert frac.sum() == 0 and foreign == ["Sn"]


@pytest.mark.parametrize(
    "symbols, message",
    [
        (["Al", "Xx", "Zn"], "unknown element symbol 'Xx' (did you mean 'Xe'?)"),
        (["MG"], "unknown element symbol 'MG' (did you mean 'Mg'?)"),
        (["Alu"], "unknown element symbol 'Alu' (did you mean 'Al'?)"),
        (["Q"], "unknown element symbol 'Q'"),
    ],
)
def test_unknown_element_symbols_get_the_closest(symbols, message):
    with pytest.raises(InputError) as err:
        check_elements(symbols, source="f.txt", where="line 3")
    assert str(err.value) == f"f.txt: line 3: {message}"


def test_all_symbols_and_placeholders_pass():
    assert len(ELEMENTS) == 118 and ELEMENTS[0] == "H" and ELEMENTS[-1] == "Og"
    check_elements(ELEMENTS)
    check_elements(["E1", "E2", "E12"])  # the names drnets gives unnamed elements


def test_formula_suggests_the_symbol():
    with pytest.raises(InputError, match=r"unknown element 'M' in formula 'MGO' \(did you mean 'Mg'\?\)"):
        parse_formula("MGO")
