"""The corpus in tests/io/broken/: one small input per class of bad input, each read through
``load`` and answered with the exact error (or warning) a scientist should see."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from drnets.core import InputError
from drnets.io import load, read_phases

BROKEN = Path(__file__).parent / "broken"
LIBRARY = BROKEN / "library.txt"


def _error(*args, **kwargs) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no library warning may reach the user
        with pytest.raises(InputError) as err:
            load(*args, **kwargs)
    assert "\n" not in str(err.value)
    return str(err.value)


def _load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load(*args, **kwargs)


@pytest.mark.parametrize(
    "name, args, where, value",
    [
        ("xy_cut_number/s2.xy", ("xy_cut_number",), "line 10", "2.647"),
        ("sticks_cut_number.csv", ("library.txt", "sticks_cut_number.csv"), "line 5", "0.35"),
        ("instance_cut_number.txt", ("instance_cut_number.txt",), "line 13 (I3)", "1.0"),
    ],
)
def test_number_cut_at_the_end_of_a_file(name, args, where, value):
    kwargs = {"phases": BROKEN / args[1]} if len(args) > 1 else {}
    assert _error(BROKEN / args[0], **kwargs) == (
        f"{BROKEN / name}: {where}: the last line has no line end and its value {value!r} is shorter than any like it "
        "before: the file looks cut off (end the line with a line break if it is complete)"
    )


def test_short_pattern_file_is_refused_not_cropped():
    folder = BROKEN / "xy_short_file"
    assert _error(folder) == (
        f"{folder / 's2.xy'}: Q grid (6 points, 10-11.25 nm⁻¹) differs from the other files' (9 points, 10-12 nm⁻¹, "
        "e.g. s0.xy): a short or cut-off file? Pass resample=True to interpolate all patterns onto the range they share"
    )
    ds = _load(folder, resample=True)  # asked for: resampled, and said so
    assert ds.library.q[-1] == pytest.approx(11.25) and ds.library.q.size == 6
    assert ds.library.metadata["resampled"].tolist() == [True, True, False]
    assert ds.warnings == ["2 of 3 patterns were resampled onto the common Q grid 10-11.25 nm⁻¹ (6 points)"]


def test_same_grid_is_not_resampled(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    for f in (BROKEN / "xy_short_file").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "s2.xy").write_bytes((folder / "s1.xy").read_bytes())
    ds = _load(folder, resample=True)
    assert "resampled" not in ds.library.metadata and ds.warnings == []
    np.testing.assert_array_equal(ds.library.q, np.round(np.linspace(10, 12, 9), 4))


def test_composition_row_without_pattern_file():
    folder = BROKEN / "xy_extra_sample"
    assert _error(folder) == f"{folder / 'compositions.csv'}: line 5: sample 's3' has no pattern file in {folder}"


@pytest.mark.parametrize(
    "name, problem",
    [
        ("instance_unknown_element.txt", "unknown element symbol 'Xx' (did you mean 'Xe'?)"),
        ("instance_wrong_case_element.txt", "unknown element symbol 'NI' (did you mean 'Ni'?)"),
    ],
)
def test_unknown_element_symbol(name, problem):
    assert _error(BROKEN / name) == f"{BROKEN / name}: line 3 (Elements): {problem}"


def test_phase_with_an_element_outside_the_system():
    sticks = BROKEN / "sticks_foreign_element.csv"
    assert _error(LIBRARY, phases=sticks) == (
        f"{sticks}: line 3: formula 'CuFe2O4' holds Cu, outside the system Fe-Ni: fix the formula or declare the phase "
        "a substrate (role 'substrate' in the stick table, or substrates=)"
    )
    ds = _load(LIBRARY, phases=sticks, substrates=["CuFe2O4_2"])
    assert ds.phases.is_substrate.tolist() == [False, True] and ds.warnings == []
    assert "substrates: substrate 'nope' is not a phase label" in _error(LIBRARY, phases=sticks, substrates=["nope"])


def test_role_column_and_undeclared_substrate_warning():
    ds = _load(LIBRARY, phases=BROKEN / "sticks_substrate_role.csv")
    assert ds.phases.substrates == ("CuFe2O4_2",)
    assert ds.phases.is_substrate.tolist() == [False, True, True]
    np.testing.assert_array_equal(ds.phases.compositions[1:], 0)
    assert (
        ds.warnings
        == ds.phases.warnings
        == [
            "phase 'SnO2_3' (SnO2) holds none of the elements Fe-Ni: taken for a substrate allowed at every point "
            "(declare it a substrate to confirm)"
        ]
    )
    assert _load(LIBRARY, phases=BROKEN / "sticks_substrate_role.csv", substrates=["SnO2_3"]).warnings == []


def test_same_label_in_two_places():
    sticks = BROKEN / "sticks_split_label.csv"
    assert _error(LIBRARY, phases=sticks) == (
        f"{sticks}: line 5: phase 'FeO_1' again, after other phases (its rows are on lines 2-3): keep a phase's rows "
        "together, or give the two phases different labels"
    )


def test_phase_outside_the_q_range_is_reported():
    ds = _load(LIBRARY, phases=BROKEN / "sticks_unseen_phase.csv")
    assert ds.warnings == [
        "phase 'NiO_2': all 2 sticks (30-35 nm⁻¹) lie outside the Q range 10-12 nm⁻¹ even at the largest shift "
        "(±8%): it can never be seen"
    ]


def test_all_zero_mask():
    mask = BROKEN / "mask_all_zero.csv"
    assert _error(LIBRARY, phases=BROKEN / "sticks_unseen_phase.csv", mask=mask) == (
        f"{mask}: the mask allows no phase at any point (all zero)"
    )


def test_bom_crlf_and_latin1_are_valid_instance_text():
    ds = _load(BROKEN / "instance_bom_crlf_latin1.txt")
    ref = _load(LIBRARY)
    assert ds.library.elements == ("Fe", "Ni")
    np.testing.assert_array_equal(ds.library.patterns, ref.library.patterns)
    np.testing.assert_array_equal(ds.library.q, ref.library.q)


def test_huge_values_are_an_error_not_numpy_warnings():
    f = BROKEN / "instance_huge_values.txt"
    assert _error(f) == f"{f}: line 12 (I2): intensity 1.7e+308 at position 2 is over 1e+100: rescale the patterns"


def test_negative_cif_cell_length():
    pytest.importorskip("pymatgen")
    folder = BROKEN / "cif_negative_cell"
    with pytest.raises(InputError) as err:
        read_phases(folder, ["Mg"])
    assert str(err.value) == f"{folder / 'MgO.cif'}: line 3: cell length a = -4.212 Å: must be positive"
