"""The network engine end to end: train, read the latent space, then the reasoning and the
exact rules the search engine applies to its own answer (pruning, growth, repairs).

Checkpoints hold the trainer (weights, optimiser, multipliers, epochs) every
``net_checkpoint_every`` epochs; a resume continues training from there and gives the same
answer as an uninterrupted run. Ctrl-C during training keeps the best epoch so far.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...core import InputError
from ...io import atomic_path
from .._problem import Problem
from .._reasoning import prune, settle
from .._state import State
from ._answer import latent_to_state
from ._train import Trainer, train

Report = Callable[[str, int, int, dict], None]

#: What a checkpoint of the network engine says it is (a search checkpoint is refused).
ENGINE_TAG = "network"


def save_trainer(path: Path, trainer: Trainer, print_: str) -> None:
    """Write the trainer atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            fingerprint=np.array(print_),
            engine=np.array(ENGINE_TAG),
            trainer=np.frombuffer(trainer.to_bytes(), dtype=np.uint8),
        )


def load_trainer(path: Path, trainer: Trainer, print_: str) -> None:
    """Restore a trainer saved for this problem by :func:`save_trainer`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "engine" not in z.files or str(z["engine"]) != ENGINE_TAG:
                raise InputError("the checkpoint was made by another engine; delete it", source=str(path))
            if str(z["fingerprint"]) != print_:
                raise InputError(
                    "the checkpoint was made with another library, phase list, mask or parameters; "
                    "delete it or run without --resume",
                    source=str(path),
                )
            blob = z["trainer"].tobytes()
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"unreadable checkpoint ({err})", source=str(path)) from None
    trainer.load_bytes(blob)


def fit_network(
    pb: Problem,
    *,
    checkpoint: Path | None,
    print_: str,
    resume: bool,
    report: Report,
    total: int,
) -> tuple[State, bool, Trainer]:
    """Train the network on ``pb``, read its answer and make it obey the rules.

    Returns
    -------
    state : State
        The answer (rules enforced unless interrupted).
    interrupted : bool
        Ctrl-C stopped the run (the best epoch's answer, refitted, without the repairs).
    trainer : Trainer
        The trained network (its :meth:`~Trainer.answer` is the raw latent space).
    """
    p = pb.params
    trainer = Trainer(pb, pb.allowed)
    if resume and checkpoint is not None and checkpoint.exists():
        load_trainer(checkpoint, trainer, print_)
        pb.history.append({"resumed_after_epoch": trainer.epochs_done})

    def on_epoch(done: int, terms: dict[str, float]) -> None:
        entry = {"epoch": done, **{k: round(v, 6) for k, v in terms.items()}}
        if done % p.net_checkpoint_every == 0 or done == p.net_epochs:
            pb.history.append(entry)
            if checkpoint is not None:
                save_trainer(checkpoint, trainer, print_)
        if p.verbose and done % p.net_checkpoint_every == 0:
            print(f"epoch {done}/{p.net_epochs}: reconstruction {terms['reconstruction']:.4f}")
        report("train", 1 + done, total, {"loss": terms["loss"]})

    try:
        train(trainer, p.net_epochs, on_epoch)
    except KeyboardInterrupt:
        if trainer.best is None:
            raise
        return latent_to_state(pb, trainer.answer()), True, trainer
    state = latent_to_state(pb, trainer.answer())
    try:
        keep = prune(pb, state, pb.allowed) if p.min_peak_fraction > 0 else pb.allowed
        state = settle(pb, state, keep)
    except KeyboardInterrupt:
        return state, True, trainer
    report("repair", total, total, {})
    return state, False, trainer
