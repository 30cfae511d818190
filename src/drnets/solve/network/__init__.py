"""The network engine: DRNets' method (an encoder shared across the library, a generative
decoder, the rules as differentiable terms), trained per library, then the exact rules.

Chosen with ``PhaseMapper(engine="network")`` / ``drnets solve --engine network``.
"""

from ._encoder import Encoder, masked_softmax, sparsemax
from ._engine import fit_network
from ._train import Latent, Trainer

__all__ = ["Encoder", "Latent", "Trainer", "fit_network", "masked_softmax", "sparsemax"]
