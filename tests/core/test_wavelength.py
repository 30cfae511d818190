"""The wavelength a user or a file states: a number in Å, or an anode's Kα1/Kα2 doublet."""

import pytest

from drnets.core import ANODES, InputError, Wavelength, anode_doublet, parse_wavelength


def test_anodes_are_doublets_at_half_intensity():
    assert set(ANODES) == {"Cu", "Co", "Mo", "Cr", "Fe", "Ag"}
    for name, (k1, k2) in ANODES.items():
        w = parse_wavelength(name.lower())
        assert w == anode_doublet(name) and w.anode == name and w.is_doublet
        assert w.lines == ((k1, 1.0), (k2, 0.5)) and 0 < k2 - k1 < 0.01
    assert parse_wavelength(" Cu ").kalpha1 == pytest.approx(1.5406, abs=1e-4)
    (one, w1), (k2, w2) = parse_wavelength("Cu").q_lines
    assert one == 1.0 and w1 == 1.0 and w2 == 0.5 and k2 == pytest.approx(1.544390 / 1.540562)


def test_a_number_is_one_line():
    for value in (1.5406, "1.5406", 1):
        w = parse_wavelength(value)
        assert not w.is_doublet and w.lines == ((float(value), 1.0),) and w.anode is None
    assert parse_wavelength(Wavelength(0.7)) == Wavelength(0.7)
    assert parse_wavelength("Mo").same_as(Wavelength(0.7093)) and not parse_wavelength("Mo").same_as(Wavelength(0.72))


@pytest.mark.parametrize("bad", ["Xx", "", "1e20", "nan", "0", "-1.5", "Cu2", "inf", True, None])
def test_anything_else_is_one_line_naming_the_option(bad):
    with pytest.raises(InputError) as err:
        parse_wavelength(bad, where="--wavelength")
    assert str(err.value).startswith("--wavelength: ") and "\n" not in str(err.value)


def test_a_wavelength_checks_itself():
    with pytest.raises(InputError, match="ratio needs a Kα2"):
        Wavelength(1.5, None, 0.5)
    with pytest.raises(InputError, match="between 0 and 1"):
        Wavelength(1.5, 1.51, 2.0)
    assert Wavelength(1.5406, 1.5444, 0.5, "Cu").describe() == "Cu Kα1 1.5406 Å + Kα2 1.5444 Å (0.5)"
