"""Training the network on one library: reconstruction plus the reasoning terms, by Adam.

Unsupervised: the only data are the library's own patterns. Each point's softmax runs over
a working set of its allowed phases: at first those that best explain its pattern alone
(screening, the same energies the search engine ranks its pools by), renewed during training
from the neighbours' phases and the residual's (:meth:`Trainer.refresh`). Shifts start where
screening put each candidate, widths at the data's sigma. Gibbs is a constraint with one
Lagrange multiplier per point (dual ascent); the other rules are penalties.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .._problem import Problem
from .._screen import screen
from ._encoder import Encoder, masked_softmax, sparsemax
from ._reasoning_terms import alloying_smoothness, composition_mismatch, entropy, fraction_smoothness, gibbs_excess
from ._render import CandidateRenderer

#: Logit gap below a point's leading candidate at which a new candidate enters (a share of
#: about e^-6 = 0.25 %: a newcomer must earn its place through the gradient).
_NEWCOMER_LOGIT = 6.0

#: Grid steps a candidate's best shift must lie from its current one for a refresh to move it.
_JUMP_STEPS = 2

#: Points rendered at once when the trained network gives its answer (bounds memory).
_ANSWER_CHUNK = 256


@dataclass
class Latent:
    """The network's answer: each point's candidates, fractions, shifts, widths and scale.

    Attributes
    ----------
    cand : ndarray (N, C) int
        Candidate phase indices (padding repeats a valid one; see ``valid``).
    valid : ndarray (N, C) bool
    frac, shift, width : ndarray (N, C)
        Fractions (0 for padding), multiplicative shifts, width multipliers.
    scale : ndarray (N,)
        Least-squares scale of each point's mixture (normalised pattern units).
    """

    cand: np.ndarray
    valid: np.ndarray
    frac: np.ndarray
    shift: np.ndarray
    width: np.ndarray
    scale: np.ndarray

    def dense(self, p_n: int) -> np.ndarray:
        """Fractions as (N, P)."""
        out = np.zeros((self.cand.shape[0], p_n))
        np.add.at(out, (np.arange(self.cand.shape[0])[:, None].repeat(self.cand.shape[1], 1), self.cand), self.frac)
        return out


def candidates(
    pb: Problem, keep: np.ndarray, size: int, screened: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each point's ``size`` best-screened allowed phases (0: all allowed), with their screened
    shift and width: (cand, valid, shift, width), each (N, C). ``screened``: a
    :func:`~drnets.solve._screen.screen` of the patterns already at hand."""
    energy, combo = screen(pb, pb.x, keep) if screened is None else screened
    n_allowed = int(keep.sum(1).max()) if keep.size else 1
    c = max(1, n_allowed if size <= 0 else min(size, n_allowed))
    order = np.argsort(-energy, axis=1, kind="stable")[:, :c]
    valid = np.take_along_axis(energy, order, 1) >= 0
    valid[:, 0] |= ~valid.any(1)  # a point with no allowed phase keeps its best-screened one, inert below
    cand = np.where(valid, order, order[:, :1])
    cb = np.take_along_axis(combo, cand, 1)
    nw = pb.atoms.n_widths
    return cand, valid, pb.atoms.shifts[cb // nw], np.asarray(pb.atoms.widths)[cb % nw]


class Trainer:
    """The network, its optimiser and multipliers for one library; :meth:`epoch` trains one pass.

    Parameters
    ----------
    pb : Problem
    keep : ndarray (N, P) bool
        Phases each point may hold.
    """

    def __init__(self, pb: Problem, keep: np.ndarray) -> None:
        p = pb.params
        self.pb, self.p = pb, p
        dev = pb.device
        self.keep = keep
        self.w_lo, self.w_hi = float(min(p.width_scales)), float(max(p.width_scales))
        self.own = screen(pb, pb.x, keep)
        cand, valid, shift0, _ = candidates(pb, keep, p.net_candidates, self.own)
        self._set_slots(cand, valid & keep[np.arange(pb.n)[:, None], cand], shift0, np.zeros(cand.shape))
        self.x = pb.x
        self.xx = (self.x * self.x).sum(-1).clamp_min(1e-12)
        comp = np.nan_to_num(np.asarray(pb.comp, dtype=float))
        self.comp = torch.as_tensor(comp, dtype=torch.float32, device=dev)
        self.phase_comp = torch.as_tensor(
            np.where(pb.substrate[:, None], 0.0, np.nan_to_num(pb.phase_comp)), dtype=torch.float32, device=dev
        )
        self.edges = torch.as_tensor(np.asarray(pb.edges, dtype=np.int64).reshape(-1, 2), device=dev)
        self.limits = torch.as_tensor(pb.search_limits, device=dev)
        self.renderer = CandidateRenderer(pb.q, pb.atoms.sq, pb.atoms.si, pb.sigma, dev, pb.eta)
        with torch.random.fork_rng(devices=[]):  # the seed draws the weights, without touching the caller's RNG
            torch.manual_seed(int(p.seed))
            self.net = Encoder(pb.q.size, comp.shape[1], pb.p_n, p.net_hidden).to(dev)
        # Widths are a second group: learnt only in the second half of the run, once the
        # phases are settled (learnt from the start, broad peaks blur every phase into its
        # look-alikes: on Al-Li-Fe all widths went to twice the data's).
        body = [t for n, t in self.net.named_parameters() if n != "width"]
        self.opt = torch.optim.Adam([{"params": body}, {"params": [self.net.width], "lr": 0.0}], lr=p.net_lr)
        self.dual = torch.zeros(pb.n, device=dev)
        self.epochs_done = 0
        self.best: tuple[float, dict] | None = None

    # ---------------------------------------------------------------- the working set
    def _set_slots(self, cand: np.ndarray, valid: np.ndarray, shift: np.ndarray, bias: np.ndarray) -> None:
        """Each point's candidate slots: phases, validity, and the offsets that put each slot's
        shift where given when the network's own outputs are 0 (``bias``: logit offsets); every
        width starts at the base sigma (multiplier 1)."""
        dev = self.pb.device
        self.cand, self.valid = cand, valid
        self.cand_t = torch.as_tensor(cand, device=dev)
        self.valid_t = torch.as_tensor(valid, device=dev)
        s = torch.as_tensor((shift - 1.0) / self.p.max_shift, dtype=torch.float32, device=dev)
        self.shift0 = torch.atanh(s.clamp(-0.999, 0.999))
        span = max(self.w_hi - self.w_lo, 1e-6)
        w = torch.full(cand.shape, (1.0 - self.w_lo) / span, dtype=torch.float32, device=dev)
        self.width0 = torch.logit(w.clamp(0.02, 0.98))
        self.bias0 = torch.as_tensor(bias, dtype=torch.float32, device=dev)
        self._point_optimiser()

    def _point_optimiser(self, state: dict | None = None) -> None:
        """The per-point refinement: each slot's shift and logit offsets are learnt too (the
        encoder amortises, these make each point's answer exact; semi-amortised inference)."""
        self.shift0 = self.shift0.detach().requires_grad_(self.p.net_point_lr > 0)
        self.bias0 = self.bias0.detach().requires_grad_(self.p.net_point_lr > 0)
        self.point_opt = None
        if self.p.net_point_lr > 0:
            self.point_opt = torch.optim.Adam([self.shift0, self.bias0], lr=self.p.net_point_lr)
            if state is not None:
                self.point_opt.load_state_dict(state)

    def refresh(self) -> int:
        """Renew the working set of the masked softmax: candidates holding a fraction stay; the
        phases the neighbours hold and those that best explain each point's residual (the
        largest gradients among the phases left out) take the other slots. Returns the
        number of slots that changed."""
        pb, c_n = self.pb, self.cand.shape[1]
        nw = pb.atoms.n_widths
        with torch.no_grad():
            logits, ds, dw = self.net(self.x, self.comp)
            frac, shift, width = self.latent()
            rec = torch.zeros_like(self.x)
            jump = np.full(self.cand.shape, -1, dtype=np.int64)
            for a in range(0, pb.n, _ANSWER_CHUNK):
                pts = np.arange(a, min(a + _ANSWER_CHUNK, pb.n))
                pt = torch.as_tensor(pts, device=self.x.device)
                prof = self.renderer(self.cand[pts], shift[pt], width[pt])
                part = frac[pt].unsqueeze(-1) * prof
                mix = part.sum(1)
                x = self.x[pt]
                scale = ((mix * x).sum(-1) / (mix * mix).sum(-1).clamp_min(1e-12)).clamp_min(0).view(-1, 1, 1)
                rec[pt] = scale[:, :, 0] * mix
                jump[pts] = self._best_combos(pts, (x - rec[pt]).unsqueeze(1) + scale * part)
        e_r, c_r = screen(pb, (self.x - rec).clamp_min(0), self.keep)
        e_x, c_x = self.own
        frac, shift, width = (t.detach().cpu().numpy() for t in (frac, shift, width))
        # A candidate whose best grid shift for what it can explain (the residual plus its own
        # part) lies elsewhere moves there: the gradient only ever refines a shift locally.
        grid_s = pb.atoms.shifts[np.maximum(jump, 0) // nw]
        far = (jump >= 0) & (np.abs(grid_s - shift) > _JUMP_STEPS * (pb.atoms.shifts[1] - pb.atoms.shifts[0]))
        shift = np.where(far, grid_s, shift)
        lg, ds, dw = (t.detach().cpu().numpy() for t in (logits, ds, dw))
        held = [
            {int(self.cand[i, c]): shift[i, c] for c in np.flatnonzero(frac[i] >= self.p.net_cutoff)}
            for i in range(pb.n)
        ]
        new_c, new_v = self.cand.copy(), self.valid.copy()
        new_s = shift.astype(float)
        new_b = self.bias0.detach().cpu().numpy().copy()
        changed = 0
        for i in range(pb.n):
            stay = [
                c for c in np.argsort(-frac[i], kind="stable") if self.valid[i, c] and frac[i, c] >= self.p.net_cutoff
            ]
            pool: dict[int, float | None] = {int(self.cand[i, c]): None for c in stay}
            offers: list[tuple[int, float]] = []
            for ph in np.argsort(-e_r[i], kind="stable")[:c_n]:
                if e_r[i, ph] > 0:
                    offers.append((int(ph), pb.atoms.shifts[c_r[i, ph] // nw]))
            for nb in pb.nbrs[i]:
                offers += [(ph, sv) for ph, sv in held[nb].items() if self.keep[i, ph]]
            for ph in np.argsort(-e_x[i], kind="stable")[:c_n]:
                if e_x[i, ph] > 0:
                    offers.append((int(ph), pb.atoms.shifts[c_x[i, ph] // nw]))
            for ph, sv in offers:
                if len(pool) >= c_n:
                    break
                if ph not in pool:
                    pool[ph] = sv
            slots = list(pool.items())
            old = {int(self.cand[i, c]): c for c in stay}
            top = float(lg[i, self.cand[i, stay]].max() + new_b[i, stay].max()) if stay else 0.0
            row_c = np.full(c_n, slots[0][0] if slots else int(self.cand[i, 0]))
            row_v = np.zeros(c_n, dtype=bool)
            row_s, row_b = np.ones(c_n), np.zeros(c_n)
            for k, (ph, sv) in enumerate(slots):
                row_c[k], row_v[k] = ph, True
                if sv is None:  # a slot that stays keeps its own offsets
                    c = old[ph]
                    row_s[k], row_b[k] = new_s[i, c], new_b[i, c]
                    continue
                changed += 1
                row_s[k] = sv
                row_b[k] = top - _NEWCOMER_LOGIT - lg[i, ph]  # a newcomer starts with a small share
            # Offsets are stored as values at zero network output: take the network's part off.
            row_s0 = np.tanh(np.arctanh(np.clip((row_s - 1) / self.p.max_shift, -0.999, 0.999)) - ds[i, row_c])
            new_c[i], new_v[i] = row_c, row_v
            new_s[i] = 1 + self.p.max_shift * row_s0
            new_b[i] = row_b
        self._set_slots(new_c, new_v, new_s, new_b)
        return changed

    def _best_combos(self, pts: np.ndarray, target: torch.Tensor) -> np.ndarray:
        """(B, C): for each candidate slot of ``pts``, the grid combo (shift * widths + width)
        whose profile at the base width best explains ``target`` (B, C, L); -1 where none correlates."""
        atoms = self.pb.atoms
        w1 = int(np.argmin(np.abs(np.asarray(atoms.widths) - 1.0)))
        out = np.full((pts.size, self.cand.shape[1]), -1, dtype=np.int64)
        cand = self.cand[pts]
        for ph in np.unique(cand):
            rows, cols = np.nonzero(cand == ph)
            blk = atoms.phase(int(ph))[:, w1]  # (S, L)
            dd = atoms.norm2(int(ph)).view(atoms.n_shifts, atoms.n_widths)[:, w1]
            g = target[torch.as_tensor(rows, device=target.device), torch.as_tensor(cols, device=target.device)] @ blk.T
            e = torch.where(g > 0, g * g / dd, torch.zeros_like(g))
            best = e.argmax(-1).cpu().numpy() * atoms.n_widths + w1
            out[rows, cols] = np.where(e.max(-1).values.cpu().numpy() > 0, best, -1)
        return out

    # ---------------------------------------------------------------- the model
    def latent(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fractions, shifts and widths (N, C) of every point's candidates."""
        logits, ds, dw = self.net(self.x, self.comp)
        lg, ds, dw = (torch.gather(t, 1, self.cand_t) for t in (logits, ds, dw))
        act = sparsemax if self.p.net_activation == "sparsemax" else masked_softmax
        frac = act(lg + self.bias0, self.valid_t)
        shift = 1.0 + self.p.max_shift * torch.tanh(self.shift0 + ds)
        width = self.w_lo + (self.w_hi - self.w_lo) * torch.sigmoid(self.width0 + dw)
        return frac, shift, width

    def mixture(self, pts: np.ndarray, frac: torch.Tensor, shift: torch.Tensor, width: torch.Tensor):
        """(reconstruction (B, L) at its least-squares scale, the scale (B,)) of points ``pts``."""
        prof = self.renderer(self.cand[pts], shift, width)
        mix = (frac.unsqueeze(-1) * prof).sum(1)
        x = self.x[torch.as_tensor(pts, device=self.x.device)]
        scale = ((mix * x).sum(-1) / (mix * mix).sum(-1).clamp_min(1e-12)).clamp_min(0)
        return scale.unsqueeze(-1) * mix, scale

    def losses(self, pts: np.ndarray) -> dict[str, torch.Tensor]:
        """Every term of the loss on a batch of points (edge terms over the whole library)."""
        frac, shift, width = self.latent()
        pt = torch.as_tensor(pts, device=self.x.device)
        rec, _ = self.mixture(pts, frac[pt], shift[pt], width[pt])
        out = {"reconstruction": (((self.x[pt] - rec) ** 2).sum(-1) / self.xx[pt]).mean()}
        out["gibbs_excess"] = gibbs_excess(frac[pt], self.limits[pt])
        out["entropy"] = entropy(frac[pt]).mean()
        p_n = self.pb.p_n
        fd = torch.zeros(self.pb.n, p_n, device=frac.device).scatter_add(1, self.cand_t, frac)
        sd = torch.ones(self.pb.n, p_n, device=frac.device).scatter(1, self.cand_t, shift)
        out["alloying"] = alloying_smoothness(fd, sd, self.edges, self.p.max_shift)
        out["smoothness"] = fraction_smoothness(fd, self.edges)
        out["composition"] = composition_mismatch(fd, self.phase_comp, self.comp)
        return out

    # ---------------------------------------------------------------- training
    def epoch(self, total_epochs: int) -> dict[str, float]:
        """One pass over the library in batches (order drawn from the seed and the epoch number)."""
        p = self.p
        e = self.epochs_done
        ramp = min(1.0, (e + 1) / max(1.0, 0.5 * total_epochs))  # the sparsity pressure grows over half the run
        sums: dict[str, float] = {}
        if e > 0 and e % p.net_refresh == 0 and e < 0.75 * total_epochs:  # the last quarter settles
            sums["slots_changed"] = float(self.refresh())
        self.opt.param_groups[1]["lr"] = p.net_lr if e >= 0.5 * total_epochs else 0.0
        order = np.random.default_rng([int(p.seed), e]).permutation(self.pb.n)
        for a in range(0, order.size, p.net_batch):
            pts = np.sort(order[a : a + p.net_batch])
            t = self.losses(pts)
            pt = torch.as_tensor(pts, device=self.dual.device)
            loss = (
                t["reconstruction"]
                + (self.dual[pt] * t["gibbs_excess"]).mean()
                + ramp * p.net_entropy * t["entropy"]
                + p.net_alloying * t["alloying"]
                + p.net_smoothness * t["smoothness"]
                + p.net_composition * t["composition"]
            )
            self.opt.zero_grad(set_to_none=True)
            if self.point_opt is not None:
                self.point_opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if self.point_opt is not None:
                self.point_opt.step()
            if e >= 0.25 * total_epochs:  # the fit finds its phases first, then Gibbs tightens
                with torch.no_grad():
                    self.dual[pt] += p.net_dual_step * t["gibbs_excess"].detach()
            w = pts.size / self.pb.n
            for k, v in t.items():
                sums[k] = sums.get(k, 0.0) + w * float(v.detach().mean())
        self.epochs_done += 1
        # The run's best: fit plus Gibbs excess, the same measure at every epoch (the loss
        # itself changes as the multipliers grow).
        score = sums["reconstruction"] + sums["gibbs_excess"]
        if self.best is None or score < self.best[0]:
            self.best = (score, copy.deepcopy({"net": self.net.state_dict(), **self._slots()}))
        sums["loss"] = score
        return sums

    def answer(self, best: bool = True) -> Latent:
        """The network's answer (from the best epoch's weights by default)."""
        if best and self.best is not None:
            self._load_slots(self.best[1])
            self.net.load_state_dict(self.best[1]["net"])
        with torch.no_grad():
            frac, shift, width = self.latent()
            scale = torch.zeros(self.pb.n, device=frac.device)
            for a in range(0, self.pb.n, _ANSWER_CHUNK):
                pts = np.arange(a, min(a + _ANSWER_CHUNK, self.pb.n))
                pt = torch.as_tensor(pts, device=frac.device)
                scale[pt] = self.mixture(pts, frac[pt], shift[pt], width[pt])[1]
        return Latent(
            cand=self.cand,
            valid=self.valid,
            frac=frac.cpu().double().numpy(),
            shift=shift.cpu().double().numpy(),
            width=width.cpu().double().numpy(),
            scale=scale.cpu().double().numpy(),
        )

    # ---------------------------------------------------------------- checkpoint
    def _slots(self) -> dict[str, torch.Tensor]:
        return {
            "cand": torch.as_tensor(self.cand),
            "valid": torch.as_tensor(self.valid),
            "shift0": self.shift0.detach().cpu().clone(),
            "bias0": self.bias0.detach().cpu().clone(),
        }

    def _load_slots(self, d: dict) -> None:
        dev = self.pb.device
        self.cand, self.valid = d["cand"].cpu().numpy(), d["valid"].cpu().numpy()
        self.cand_t = torch.as_tensor(self.cand, device=dev)
        self.valid_t = torch.as_tensor(self.valid, device=dev)
        self.shift0, self.bias0 = (d[k].to(dev) for k in ("shift0", "bias0"))
        self._point_optimiser(d.get("point_opt"))

    def to_bytes(self) -> bytes:
        """Everything a resume needs (weights, optimiser, multipliers, epochs, the best so far)."""
        buf = io.BytesIO()
        torch.save(
            {
                "net": self.net.state_dict(),
                **self._slots(),
                "opt": self.opt.state_dict(),
                "point_opt": None if self.point_opt is None else self.point_opt.state_dict(),
                "dual": self.dual.cpu(),
                "epochs_done": self.epochs_done,
                "best_score": None if self.best is None else self.best[0],
                "best": None if self.best is None else self.best[1],
            },
            buf,
        )
        return buf.getvalue()

    def load_bytes(self, blob: bytes) -> None:
        """Restore what :meth:`to_bytes` saved."""
        d = torch.load(io.BytesIO(blob), map_location=self.pb.device, weights_only=True)
        self.net.load_state_dict(d["net"])
        self._load_slots(d)
        self.opt.load_state_dict(d["opt"])
        self.dual = d["dual"].to(self.pb.device)
        self.epochs_done = int(d["epochs_done"])
        self.best = None if d["best"] is None else (float(d["best_score"]), d["best"])


def train(
    trainer: Trainer, epochs: int, on_epoch: Callable[[int, dict[str, float]], None] | None = None
) -> dict[str, float]:
    """Train until ``epochs`` are done (a resumed trainer continues); returns the last epoch's terms."""
    last: dict[str, float] = {}
    while trainer.epochs_done < epochs:
        last = trainer.epoch(epochs)
        if on_epoch is not None:
            on_epoch(trainer.epochs_done, last)
    return last
