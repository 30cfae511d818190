"""Benchmark harness: the solver (and the NNLS baseline) on shared, generated and scaled libraries.

    python benchmarks/run.py [--quick] [--only GROUP] [--case TEXT] [--methods solver,baseline]
                             [--device cpu] [--seed 0] [--timeout S] [--out docs/benchmarks.json]

Groups: ``alfe`` (Al-Li-Fe through the DRNets folder with its mask, and through
instance.txt + sticks.csv with the element rule; compared with the ground truth),
``bicuv`` (Bi-Cu-V instance + sticks, compared with DRNets' published fractions, which
are a reference, not a truth), ``presets`` (drnets.synth easy/standard/hard) and
``scaling`` (generated libraries, N, P and Q varied one at a time from a middle
setting; the solver only unless ``--methods`` says otherwise).

Every (case, method) runs in its own subprocess with a time limit, so memory peaks do not
mix and a slow configuration cannot hang the rest. Results are appended to the JSON file
(one session per invocation, rewritten after every run); render them with
``python benchmarks/render.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("DRNETS_BENCH_DATA", ROOT.parent / "shared" / "data"))
GROUPS = ("alfe", "bicuv", "presets", "scaling")

# Scaling sweep: the middle setting, then each knob varied alone.
SCALING = {"points": (100, 1000, 10000), "phases": (20, 100, 500), "q_points": (500, 2000, 8000)}
SCALING_QUICK = {"points": (30, 60, 120), "phases": (10, 20, 40), "q_points": (200, 400, 800)}
SCALING_PRESET = "standard"


# --------------------------------------------------------------------------- cases


def case_specs(groups: list[str], quick: bool, methods: list[str], seed: int) -> list[dict[str, Any]]:
    """Every (case, method) to run, as JSON-ready dicts the worker understands."""
    specs: list[dict[str, Any]] = []

    def add(group: str, name: str, case: dict[str, Any], meths: list[str]) -> None:
        for m in meths:
            specs.append({"group": group, "case": name, "method": m, "seed": seed, "quick": quick, **case})

    both = [m for m in methods if m in ("solver", "baseline", "network")]
    stride = 8 if quick else 1  # quick: every 8th point of the shared libraries
    if "alfe" in groups:
        add("alfe", "Al-Li-Fe, DRNets folder + DRNets mask", {"kind": "alfe_drnets", "stride": stride}, both)
        add("alfe", "Al-Li-Fe, instance + sticks, element rule", {"kind": "alfe_instance", "stride": stride}, both)
    if "bicuv" in groups:
        add("bicuv", "Bi-Cu-V, instance + sticks, element rule", {"kind": "bicuv", "stride": stride}, both)
    if "presets" in groups:
        for preset in ("easy", "standard", "hard"):
            case = {
                "kind": "preset",
                "preset": preset,
                "points": 40 if quick else None,
                "q_points": 300 if quick else None,
            }
            add("presets", preset, case, both)
    if "scaling" in groups:
        grid = SCALING_QUICK if quick else SCALING
        mid = {k: v[1] for k, v in grid.items()}
        seen = set()
        for knob, values in grid.items():
            for v in values:
                cfg = dict(mid, **{knob: v})
                key = tuple(sorted(cfg.items()))
                if key in seen:
                    continue
                seen.add(key)
                name = f"N={cfg['points']} P={cfg['phases']} L={cfg['q_points']}"
                sweep = [k for k, vals in grid.items() if cfg[k] != mid[k]] or ["middle"]
                add(
                    "scaling",
                    name,
                    {"kind": "scaling", "sweep": sweep[0], **cfg},
                    [m for m in methods if m == "solver" or "scaling-baseline" in methods],
                )
    return specs


def _subset_rows(table, idx: np.ndarray) -> dict[str, np.ndarray]:
    pos = {int(p): i for i, p in enumerate(table.points)}
    rows = np.array([pos[int(i)] for i in idx])
    return {"point": np.arange(idx.size), **{lbl: table.values[rows, k] for k, lbl in enumerate(table.labels)}}


def pad_phases(phases, target: int, seed: int):
    """Pad a candidate library to ``target`` phases with perturbed copies (distractors).

    Each copy takes a real phase's formula (so the element rule treats it alike), scales
    its sticks by a random lattice factor in [0.85, 1.15] with 1 % per-stick jitter and
    redraws its intensities; its label is the original's plus ``~dK``.
    """
    from drnets.core import Phase, PhaseLibrary

    base = list(phases.phases)
    if target <= len(base):
        return phases
    rng = np.random.default_rng(10_000 + seed)
    extra = []
    for k in range(target - len(base)):
        src = base[k % len(base)]
        scale = rng.uniform(0.85, 1.15)
        q = src.q * scale * (1 + rng.normal(0, 0.01, src.q.size))
        inten = src.intensity * rng.uniform(0.3, 1.7, src.q.size)
        extra.append(Phase(f"{src.label}~d{k}", src.formula, np.abs(q) + 1e-6, inten))
    return PhaseLibrary(base + extra, phases.elements, source=f"{phases.source} + {len(extra)} distractors")


def build_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Library, phases, mask, limits and the truth (or reference) of one case."""
    import drnets
    from drnets.io import read_fractions_csv

    kind = spec["kind"]
    out: dict[str, Any] = {
        "mask": None,
        "max_phases": None,
        "truth_shifts": None,
        "truth_solution": None,
        "system": None,
        "snr": None,
        "reference": "truth",
        "baseline_sigma": None,
    }
    if kind in ("alfe_drnets", "alfe_instance"):
        root = DATA / "al-li-fe"
        if kind == "alfe_drnets":
            ds = drnets.load(root / "drnets")
        else:
            ds = drnets.load(root / "instance.txt", phases=root / "sticks.csv")
        idx = np.arange(0, ds.library.n_points, int(spec.get("stride", 1)))
        out["library"] = ds.library.subset(idx)
        out["phases"] = ds.phases
        if ds.mask is not None:
            out["mask"] = ds.mask[idx]
        if ds.max_phases is not None:
            out["max_phases"] = ds.max_phases[idx]
        out["truth"] = _subset_rows(read_fractions_csv(root / "truth" / "fractions.csv"), idx)
        out["baseline_sigma"] = 0.25  # measured on the data (shared README)
    elif kind == "bicuv":
        root = DATA / "bi-cu-v"
        ds = drnets.load(root / "instance.txt", phases=root / "sticks.csv")
        idx = np.arange(0, ds.library.n_points, int(spec.get("stride", 1)))
        out["library"] = ds.library.subset(idx)
        out["phases"] = ds.phases
        out["truth"] = _subset_rows(read_fractions_csv(root / "drnets-result" / "fractions.csv"), idx)
        out["reference"] = "DRNets published fractions (not a truth)"
    elif kind in ("preset", "scaling", "random"):
        from drnets.synth import generate

        # A random system draws its conditions too, unless the spec names a preset.
        preset = spec.get("preset") if kind == "random" else spec.get("preset", SCALING_PRESET)
        system = "random" if kind == "random" else None
        ds, truth = generate(
            preset, points=spec.get("points"), q_points=spec.get("q_points"), seed=spec["seed"], system=system
        )
        phases = ds.phases
        if kind == "scaling":
            phases = pad_phases(phases, int(spec["phases"]), spec["seed"])
        out["library"], out["phases"] = ds.library, phases
        out["truth"] = {
            "point": np.arange(ds.library.n_points),
            **{lbl: truth.fractions[:, k] for k, lbl in enumerate(truth.labels)},
        }
        out["truth_shifts"] = {
            "point": np.arange(ds.library.n_points),
            **{lbl: truth.shifts[:, k] for k, lbl in enumerate(truth.labels)},
        }
        out["truth_solution"] = truth.as_solution()
        out["system"] = truth.meta["system"]
        out["snr"] = truth.meta["parameters"]["snr"]
    else:
        raise ValueError(f"unknown case kind {kind!r}")
    return out


# --------------------------------------------------------------------------- one run (worker)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_one(spec: dict[str, Any], device: str) -> dict[str, Any]:
    """Run one (case, method) in this process and return its JSON-ready record."""
    import torch

    from drnets.core.constants import COMPARISON_THRESHOLDS
    from drnets.evaluate import audit_solution, audit_summary, compare, reconstruction_errors

    t_load = time.perf_counter()
    case = build_case(spec)
    t_load = time.perf_counter() - t_load
    lib, phases = case["library"], case["phases"]
    rss_before = _maxrss_mb()
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    if spec["method"] == "solver":
        from drnets.solve import PhaseMapper

        sol = (
            PhaseMapper(device=device, seed=spec["seed"], **spec.get("params", {}))
            .fit(lib, phases, mask=case["mask"], max_phases=case["max_phases"])
            .solution_
        )
    elif spec["method"] == "network":
        from drnets.solve import PhaseMapper

        mapper = PhaseMapper(engine="network", device=device, seed=spec["seed"]).fit(
            lib, phases, mask=case["mask"], max_phases=case["max_phases"]
        )
        sol = mapper.solution_
        raw = mapper.network_.answer().dense(len(phases))  # the latent space, before pruning and repairs
    elif spec["method"] == "baseline":
        sys.path.insert(0, str(ROOT))
        from benchmarks.baseline import nnls_baseline

        sol = nnls_baseline(lib, phases, case["mask"], case["max_phases"], sigma=case["baseline_sigma"])
    else:
        raise ValueError(f"unknown method {spec['method']!r}")
    wall = time.perf_counter() - t0
    rec: dict[str, Any] = {
        "status": "ok",
        "points": int(lib.n_points),
        "phases": int(len(phases)),
        "q_points": int(lib.q.size),
        "allowed_per_point": float(np.mean(case["mask"].sum(1))) if case["mask"] is not None else None,
        "reference": case["reference"],
        "load_s": round(t_load, 3),
        "wall_s": round(wall, 3),
        "solution_wall_time_s": sol.metadata.get("wall_time_s"),
        "device": sol.metadata.get("device", device),
        "peak_rss_mb": round(_maxrss_mb(), 1),
        "rss_before_fit_mb": round(rss_before, 1),
        "cuda_max_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
    }
    cmp = compare(
        sol,
        case["truth"],
        COMPARISON_THRESHOLDS,
        shifts=sol if case["truth_shifts"] is not None else None,
        truth_shifts=case["truth_shifts"],
    )
    rec["fraction_l1"] = cmp["fraction_l1"]
    rec["gross_error_share"] = cmp["gross_error_share"]
    if case["system"]:
        rec["system"], rec["snr"] = case["system"], case["snr"]
    rec["by_threshold"] = {
        f"{b['threshold']:g}": {"exact_match": b["exact_match"], "mean_jaccard": b["mean_jaccard"]}
        for b in cmp["by_threshold"]
    }
    if "shift" in cmp:
        rec["shift_mae"] = cmp["shift"]["mae"]
    try:
        rec["audit"] = audit_summary(audit_solution(sol, lib, phases))
    except Exception as err:  # noqa: BLE001 - a broken audit must not lose the run
        rec["audit"] = {"error": repr(err)}
    if sol.audit:
        rec["audit_reported"] = audit_summary(sol.audit)
    if case["truth_solution"] is not None:  # the truth's own flags under the same audit, for reference
        rec["truth_audit"] = audit_summary(audit_solution(case["truth_solution"], lib, phases))
    if spec["method"] == "network":
        raw_cmp = compare(dict(zip(phases.labels, raw.T)), case["truth"], COMPARISON_THRESHOLDS)
        rec["network_raw"] = {
            "fraction_l1": raw_cmp["fraction_l1"],
            "by_threshold": {f"{b['threshold']:g}": {"exact_match": b["exact_match"]} for b in raw_cmp["by_threshold"]},
        }
    if sol.reconstruction is not None:
        e = reconstruction_errors(lib.patterns, sol.reconstruction)
        rec["reconstruction"] = {k: e[k] for k in ("rel_l1_total", "rel_l2_total", "rel_l2_mean", "sym_kl_mean")}
    rec["peak_rss_mb"] = round(_maxrss_mb(), 1)
    return rec


# --------------------------------------------------------------------------- machine, session


def _resolved(device: str) -> str:
    """The device 'auto' stands for on this machine, so the record says what ran."""
    from drnets.solve import pick_device

    return pick_device(device)


def machine_info(device: str) -> dict[str, Any]:
    import numpy
    import scipy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": _resolved(device),
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        import drnets

        info["drnets"] = getattr(drnets, "__version__", None)
    except Exception:  # pragma: no cover
        pass
    try:
        info["git"] = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except Exception:  # pragma: no cover
        info["git"] = None
    return info


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    _write_text(path, json.dumps(doc, indent=1) + "\n")


def _write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _load_doc(path: Path, fmt: str = "drnets-benchmarks/1") -> dict[str, Any]:
    if path.exists():
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc.setdefault("sessions", [])
        return doc
    return {"format": fmt, "sessions": []}


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    groups = [args.only] if args.only else list(GROUPS)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    specs = case_specs(groups, args.quick, methods, args.seed)
    if args.case:
        specs = [s for s in specs if args.case.lower() in s["case"].lower()]
    out = Path(args.out)
    doc = _load_doc(out)
    session = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
        "quick": bool(args.quick),
        "seed": args.seed,
        "timeout_s": args.timeout,
        "machine": machine_info(args.device),
        "results": [],
    }
    doc["sessions"].append(session)
    run_specs(specs, session, doc, out, args.timeout, args.device)
    return session


def run_specs(
    specs: list[dict[str, Any]], session: dict[str, Any], doc: dict[str, Any], out: Path, timeout: float, device: str
) -> None:
    """Run every spec in its own worker subprocess, appending each record to ``session``.

    The JSON file ``out`` (holding ``doc``, which holds ``session``) is rewritten after every run.
    """
    t_all = time.perf_counter()
    for i, spec in enumerate(specs):
        label = f"[{i + 1}/{len(specs)}] {spec['group']} | {spec['case']} | {spec['method']}"
        print(label, "...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            res_path = Path(tmp) / "result.json"
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                json.dumps(spec),
                "--result",
                str(res_path),
                "--device",
                device,
            ]
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
                if res_path.exists():
                    rec = json.loads(res_path.read_text())
                else:
                    rec = {"status": "error", "returncode": proc.returncode, "stderr_tail": (proc.stderr or "")[-2000:]}
            except subprocess.TimeoutExpired:
                rec = {"status": "timeout"}
            rec["subprocess_s"] = round(time.perf_counter() - t0, 2)
        entry = {k: spec[k] for k in ("group", "case", "method")}
        entry["config"] = {k: v for k, v in spec.items() if k not in ("group", "case", "method")}
        entry.update(rec)
        session["results"].append(entry)
        session["total_s"] = round(time.perf_counter() - t_all, 1)
        _write_json(out, doc)
        brief = rec["status"]
        if rec["status"] == "ok":
            b = rec["by_threshold"].get("0.02", {})
            brief = (
                f"{rec['wall_s']:.1f} s, {rec['peak_rss_mb']:.0f} MB, "
                f"exact@2% {b.get('exact_match', float('nan')):.3f}, "
                f"jaccard@2% {b.get('mean_jaccard', float('nan')):.3f}, L1 {rec['fraction_l1']:.3f}"
            )
        print("   ", brief, flush=True)
    print(f"total {time.perf_counter() - t_all:.1f} s; results in {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, to test the harness")
    ap.add_argument("--only", choices=GROUPS, help="run one group only")
    ap.add_argument("--case", help="run only cases whose name contains this text")
    ap.add_argument(
        "--methods",
        default="solver,baseline",
        help="comma list of solver, network, baseline (add scaling-baseline to run the baseline in the sweep too)",
    )
    ap.add_argument("--device", default="auto", help="solver device: auto, cpu or cuda")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run (default 3600, quick 600)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.json"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        rec = run_one(json.loads(args.worker), args.device)
        Path(args.result).write_text(json.dumps(rec), encoding="utf-8")
        return 0
    if args.timeout is None:
        args.timeout = 600.0 if args.quick else 3600.0
    run_all(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
