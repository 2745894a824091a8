"""Position-resolved D(z) around grain boundaries: lilib against a plain numpy reference.

No peer computes a position-resolved D(z) with hops per slab (pymatgen-analysis-diffusion,
GEMDAT, kinisi and tidynamics give one D per species), so lilib's numba kernels are timed
against a plain numpy implementation of the same estimator, written here: increments at two
lags (τ1, τ2) credited to the slab of their midpoint and summed per (lag, time block, ion group,
slab), origins processed in chunks of 1000 frames (bounded memory); hops by the running-mean
residence rule, one vectorised step per frame. Both must give the same D per slab and the same
hop counts (printed: the largest relative difference).

The trajectory (default 5 000 Li × 10 000 frames, float32, 1 ps apart; ``--quick`` 1 000 ×
2 000) is an Euler–Maruyama walk in a 40 Å cell along z with two GB planes: D = 0.002 Å²/ps in
the bulk, 10× that along and ¹⁄₁₀₀ through a 5 Å GB (tanh edges, Itô drift in z). It is
written to a temporary .npy file; each tool runs in its own child process (fresh imports, one
thread) and reports:
- first: the first call (lilib: includes loading or compiling the numba kernels);
- warm: a second call in the same process;
- x lilib: warm time over lilib's; peak MB: the child's peak RSS (includes the positions,
  loaded whole, and the imports); anal. MB: peak RSS above the RSS before the first call;
- D∥ GB / D∥ bulk: slab 0 and the last slab, cm²/s (true values printed above the table).

Usage: python benchmarks/bench_gb_profile.py [--quick] [--atoms 5000 --frames 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

L_Z = 40.0
PLANES = (10.0, 30.0)
HALF, EDGE = 2.5, 0.25
D_BULK, D_GB_PAR, D_GB_PERP = 0.002, 0.02, 2e-5  # Å²/frame
DT_FS = 1000.0
LAGS = (5, 20)
BIN_A = 1.0
N_BLOCKS = N_GROUPS = 10
HOP_A = 1.0
TOOLS = ("lilib", "numpy-reference")


def nearest_signed(z: np.ndarray) -> np.ndarray:
    """Signed distance (Å) to the nearer of the two planes, periodic in L_Z."""
    best = None
    for p in PLANES:
        d = z - p
        d -= L_Z * np.floor(d * (1.0 / L_Z) + 0.5)
        best = d if best is None else np.where(np.abs(d) < np.abs(best), d, best)
    return best


def make_walk(n_atoms: int, n_frames: int, seed: int = 0) -> np.ndarray:
    """Positions (n_frames, n_atoms, 3) float32, Å: Euler–Maruyama with the Itô drift in z."""
    rng = np.random.default_rng(seed)
    r = rng.random((n_atoms, 3)) * np.array([30.0, 30.0, L_Z])
    out = np.empty((n_frames, n_atoms, 3), np.float32)
    out[0] = r
    for f in range(1, n_frames):
        d = nearest_signed(r[:, 2])
        a, b = np.tanh((d + HALF) / EDGE), np.tanh((d - HALF) / EDGE)
        s, ds = 0.5 * (a - b), 0.5 / EDGE * (b * b - a * a)
        dp = D_BULK + (D_GB_PAR - D_BULK) * s
        dz = D_BULK + (D_GB_PERP - D_BULK) * s
        xi = rng.standard_normal((n_atoms, 3))
        r[:, :2] += np.sqrt(2 * dp)[:, None] * xi[:, :2]
        r[:, 2] += (D_GB_PERP - D_BULK) * ds + np.sqrt(2 * dz) * xi[:, 2]
        out[f] = r
    return out


# ---------------------------------------------------------------------------- reference


def reference_profile(pos: np.ndarray) -> dict:
    """The same estimator in plain numpy: D per slab (cm²/s, x/y/z) and hops per slab."""
    n_frames, n_ions, _ = pos.shape
    edges = BIN_A * np.arange(int(np.ceil(L_Z / 4 / BIN_A)) + 1)
    n_bins = edges.size - 1
    groups = np.random.default_rng(0).permutation(n_ions) % min(N_GROUPS, n_ions)
    n_o = n_frames - LAGS[1]
    sums = np.zeros((2, N_BLOCKS, N_GROUPS, n_bins, 3))
    counts = np.zeros((2, N_BLOCKS, N_GROUPS, n_bins))
    for k, tau in enumerate(LAGS):
        for s in range(0, n_o, 1000):
            t = np.arange(s, min(s + 1000, n_o))
            a = pos[t].astype(np.float64)
            b = pos[t + tau].astype(np.float64)
            delta2 = (b - a) ** 2
            x = np.abs(nearest_signed(0.5 * (a[..., 2] + b[..., 2])))
            slab = np.searchsorted(edges, x, side="right") - 1
            ok = slab < n_bins
            block = np.broadcast_to((t * N_BLOCKS // n_o)[:, None], slab.shape)
            grp = np.broadcast_to(groups[None, :], slab.shape)
            key = ((block * N_GROUPS + grp) * n_bins + slab)[ok]
            size = N_BLOCKS * N_GROUPS * n_bins
            counts[k] += np.bincount(key, minlength=size).reshape(counts[k].shape)
            for c in range(3):
                w = np.bincount(key, delta2[..., c][ok], minlength=size)
                sums[k, ..., c] += w.reshape(counts[k].shape)
    m = sums.sum(axis=(1, 2)) / counts.sum(axis=(1, 2))[..., None]
    d = (m[1] - m[0]) / (2 * (LAGS[1] - LAGS[0]) * DT_FS) * 0.1

    hops = np.zeros(n_bins, dtype=np.int64)
    res_sum = pos[0].astype(np.float64)
    res_n = np.ones(n_ions)
    for f in range(1, n_frames):
        r = pos[f].astype(np.float64)
        mean = res_sum / res_n[:, None]
        hop = ((r - mean) ** 2).sum(axis=1) > HOP_A**2
        if hop.any():
            slab = np.searchsorted(edges, np.abs(nearest_signed(mean[hop, 2])), side="right") - 1
            hops += np.bincount(slab[slab < n_bins], minlength=n_bins)
        res_sum = np.where(hop[:, None], r, res_sum + r)
        res_n = np.where(hop, 1, res_n + 1)
    return {"D": d, "hops": hops}


def lilib_profile(pos: np.ndarray) -> dict:
    from lilib.gb.transport import gb_profile
    from lilib.md import Trajectory

    cell = np.diag([30.0, 30.0, L_Z])
    traj = Trajectory(pos, cell, ["Li"] * pos.shape[1], DT_FS, unwrapped=True)
    prof = gb_profile(
        traj,
        PLANES,
        lag_frames=LAGS,
        bin_width_A=BIN_A,
        n_blocks=N_BLOCKS,
        n_ion_groups=N_GROUPS,
        hop_threshold_A=HOP_A,
        min_hops=0,
    )
    return {"D": prof.D_cm2_s, "hops": prof.hops}


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def child(tool: str, npy: str, out: str) -> None:
    pos = np.load(npy)
    if tool == "lilib":
        import lilib.gb.transport  # noqa: F401  (imports are not the analysis)
    run = lilib_profile if tool == "lilib" else reference_profile
    before = _rss_mb()
    t0 = time.perf_counter()
    res = run(pos)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = run(pos)
    warm = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    np.savez(out, D=res["D"], hops=res["hops"])
    print("RESULT " + json.dumps({"first_s": first, "warm_s": warm, "peak_MB": peak,
                                  "analysis_MB": peak - before}))  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 000 atoms × 2 000 frames")
    ap.add_argument("--atoms", type=int, default=5000)
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--child", nargs=3, metavar=("TOOL", "NPY", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    n_atoms, n_frames = (1000, 2000) if args.quick else (args.atoms, args.frames)

    t0 = time.perf_counter()
    pos = make_walk(n_atoms, n_frames)
    gen = time.perf_counter() - t0
    print(
        f"synthetic GB walk: {n_atoms} Li × {n_frames} frames ({pos.nbytes / 1e6:.0f} MB float32, "
        f"made in {gen:.0f} s); lags {LAGS} frames, {BIN_A:g} Å slabs, {N_BLOCKS} blocks × "
        f"{N_GROUPS} ion groups; true D∥: GB {D_GB_PAR * 0.1 / DT_FS:.3e}, bulk "
        f"{D_BULK * 0.1 / DT_FS:.3e} cm²/s"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "walk.npy"
        np.save(npy, pos)
        del pos
        for tool in TOOLS:
            out = Path(tmp) / f"{tool}.npz"
            cmd = [sys.executable, __file__, "--child", tool, str(npy), str(out)]
            r = subprocess.run(cmd, capture_output=True, text=True, env=_env())
            line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
                print(f"{tool}: failed: {tail[:200]}")
                continue
            res = json.loads(line[0][7:])
            with np.load(out) as z:
                res["D"], res["hops"] = z["D"], z["hops"]
            results[tool] = res

    base = results.get("lilib")
    print(
        f"{'tool':18s} {'first s':>8s} {'warm s':>8s} {'x lilib':>8s} {'peak MB':>8s} "
        f"{'anal. MB':>9s}  {'D∥ GB':>10s} {'D∥ bulk':>10s}"
    )
    for tool, r in results.items():
        ratio = r["warm_s"] / base["warm_s"] if base else float("nan")
        dpar = 0.5 * (r["D"][:, 0] + r["D"][:, 1])
        print(
            f"{tool:18s} {r['first_s']:8.2f} {r['warm_s']:8.2f} {ratio:8.1f} {r['peak_MB']:8.0f} "
            f"{r['analysis_MB']:9.0f}  {dpar[0]:10.3e} {dpar[-1]:10.3e}"
        )
    if len(results) == 2:
        a, b = results["lilib"], results["numpy-reference"]
        rel = np.nanmax(np.abs(a["D"] - b["D"]) / np.abs(b["D"]))
        same = np.array_equal(a["hops"], b["hops"])
        print(f"lilib vs reference: max relative D difference {rel:.1e}; hops identical: {same}")


if __name__ == "__main__":
    main()
