"""The knobs of a synthetic library: the fixed presets and the draw of a random one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._systems import RANDOM


@dataclass(frozen=True)
class Preset:
    """The knobs of one synthetic library.

    Parameters
    ----------
    name : str
        Preset name.
    system : str
        Key of :data:`drnets.synth._systems.SYSTEMS` (``"ternary"`` or ``"quaternary"``), or
        ``"random"`` for a chemical system drawn from the seed.
    points : int
        Number of sample points N.
    q_points : int
        Number of Q grid points L.
    q_range : tuple of float
        Q grid ends in nm⁻¹.
    sampling : str
        ``"grid"`` (triangular / tetrahedral grid) or ``"random"`` (uniform on the simplex).
    max_shift : float
        Largest relative Q shift of a solid solution's far end (0.03 = 3 %).
    n_distractors : int or None
        Distractor phases added to the candidates (None: all of the system's).
    width : tuple of float
        Gaussian peak sigma (nm⁻¹) at the low and high ends of the Q grid.
    width_jitter : float
        Per-phase width factors are drawn from ``[1 - jitter, 1 + jitter]``.
    eta : float
        Pseudo-Voigt Lorentzian share (0: pure Gaussian).
    texture : float
        Texture strength: March-Dollase ``r = exp(texture * f(composition))`` with
        ``f`` a smooth field in [-1, 1]; 0 for none.
    background : float
        Background level relative to a single phase's peak height; 0 for none.
    thickness : float
        Relative variation of the overall intensity across the library (film thickness).
    snr : float or None
        Signal-to-noise ratio at the top of a full-amplitude peak; None for no noise.
    noise : str
        ``"poisson"`` (counts, the unit amplitude is ``snr**2`` counts) or ``"gaussian"``.
    substrate : float
        Substrate peak height relative to a single phase's; 0 for no substrate.
    substrate_texture : float
        Orientation of the substrate: March-Dollase ``r = exp(-substrate_texture)`` along its
        c axis (an oriented film or a crystal, whose reflections near the axis dominate, as
        FTO's (301) does under the Bi-Cu-V library); 0 for a powder.
    impurity : float
        Largest impurity peak height relative to a single phase's; 0 for no impurity.
    """

    name: str
    system: str = "ternary"
    points: int = 210
    q_points: int = 800
    q_range: tuple[float, float] = (15.0, 75.0)
    sampling: str = "grid"
    max_shift: float = 0.0
    n_distractors: int | None = 2
    width: tuple[float, float] = (0.15, 0.30)
    width_jitter: float = 0.0
    eta: float = 0.0
    texture: float = 0.0
    background: float = 0.0
    thickness: float = 0.0
    snr: float | None = None
    noise: str = "poisson"
    substrate: float = 0.0
    substrate_texture: float = 0.0
    impurity: float = 0.0


#: The built-in presets.
PRESETS: dict[str, Preset] = {
    "easy": Preset("easy", system="ternary", points=136, n_distractors=2),
    "standard": Preset(
        "standard",
        system="ternary",
        points=210,
        max_shift=0.03,
        n_distractors=4,
        width_jitter=0.15,
        eta=0.3,
        background=0.05,
        thickness=0.15,
        snr=30.0,
    ),
    "hard": Preset(
        "hard",
        system="quaternary",
        points=220,
        max_shift=0.06,
        n_distractors=None,
        width_jitter=0.25,
        eta=0.5,
        texture=0.6,
        background=0.15,
        thickness=0.25,
        snr=10.0,
        substrate=0.3,
        impurity=0.25,
    ),
}


def draw_preset(rng: np.random.Generator) -> Preset:
    """Measurement conditions of a random library, each drawn from ``rng``.

    Ranges: 100-1,000 points (log-uniform), 400-1,000 Q points, grid or random sampling,
    Vegard shifts up to ±5 %, Gaussian sigma 0.08-0.22 nm⁻¹ at the low end of the grid
    growing 1.3-2.5 times to the high end, per-phase width jitter 5-30 %, pseudo-Voigt
    eta 0-1, texture 0 (30 % of libraries) or 0.2-0.8, background 2-30 %, film thickness
    variation 5-30 %, signal-to-noise 10-100 (log-uniform, Poisson counts), a substrate in
    half of the libraries (10-50 % of a phase's height) and an impurity in 60 % (10-30 %).
    """
    points = int(round(math.exp(rng.uniform(math.log(100), math.log(1000)))))
    q_points = int(rng.integers(400, 1001))
    sampling = "grid" if rng.random() < 0.5 else "random"
    sigma = float(rng.uniform(0.08, 0.22))
    growth = float(rng.uniform(1.3, 2.5))
    jitter = float(rng.uniform(0.05, 0.30))
    eta = float(rng.uniform(0.0, 1.0))
    texture = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.2, 0.8))
    background = float(rng.uniform(0.02, 0.30))
    thickness = float(rng.uniform(0.05, 0.30))
    snr = float(math.exp(rng.uniform(math.log(10), math.log(100))))
    substrate = 0.0 if rng.random() < 0.5 else float(rng.uniform(0.1, 0.5))
    impurity = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.1, 0.3))
    return Preset(
        "random",
        system=RANDOM,
        points=points,
        q_points=q_points,
        sampling=sampling,
        max_shift=0.05,
        n_distractors=None,
        width=(sigma, sigma * growth),
        width_jitter=jitter,
        eta=eta,
        texture=texture,
        background=background,
        thickness=thickness,
        snr=snr,
        substrate=substrate,
        impurity=impurity,
    )
