"""Polyanion orientation tracking + bond autocorrelation: lilib against GEMDAT and freud.

One synthetic trajectory (default 64 PS4 tetrahedra × 20 000 frames, 20 fs apart, plus 180 Li:
500 atoms like DESIGN.md §3's MD benchmark) is written to a temporary .npy file: the tetrahedra
librate (Ornstein–Uhlenbeck rotation vector, 10° RMS, 0.1 ps) and make Poisson C3/C2 jumps
(0.05 /ps per group); the Li vibrate in place. Each tool then runs in its own child process
(fresh imports, one BLAS/numba thread) and reports:

- import: importing the tool; prepare: building its input (GEMDAT: a pymatgen-based
  Trajectory of fractional coordinates; freud: the orientation quaternions, computed with lilib
  since freud has no orientation finder, not timed as freud's work);
- analysis:
  lilib: find_groups + track_orientations (Kabsch/QCP quaternions, point group T, states) +
  rotation_events (hysteresis) + bond_acf (C1 and C2 over all time origins, KWW fit, no
  bootstrap), after a small warm-up call that compiles the numba kernels (its time is shown);
  GEMDAT: Orientations(traj, 'P', 'S').normalize().symmetrize('m-3m').autocorrelation()
  (the 'symmetrize + autocorrelation' measured in DESIGN.md §3: bond unit vectors, l = 1,
  no events); freud: RotationalAutocorrelation(l=2) of every frame against frame 0 (its
  documented per-frame use: one time origin; all origins would cost n_frames × that);
- x lilib: analysis time over lilib's (wall, then CPU time: the CPU ratio is the one to trust
  on a loaded machine); peak MB: the child's peak RSS (ru_maxrss, includes the
  positions array and the imports); traced MB: tracemalloc peak during the analysis;
- result: what each tool reports (lilib: events found vs prescribed, C2 at 10 ps; GEMDAT: its
  autocorrelation at 10 ps; freud: its order parameter at 10 ps).
Peers that are not importable are skipped with the reason. Install them with
``pip install -e .[bench]`` plus ``freud-analysis`` (or put them on PYTHONPATH).

Usage: python benchmarks/bench_rotations.py [--quick] [--groups 64 --frames 20000] [--tools lilib gemdat freud]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import importable, run_child

DT_FS = 20.0
SPACING_A = 7.0
JUMP_RATE_PER_PS = 0.05
LIB_RMS_DEG = 10.0
TOOLS = ("lilib", "gemdat", "freud")

CHILD = r"""
import json, resource, sys, time, tracemalloc
tool, npy, meta = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
import numpy as np
pos = np.load(npy, mmap_mode="r")
n_frames, n_atoms = pos.shape[:2]
n_groups, n_li, box, dt_fs = meta["n_groups"], meta["n_li"], meta["box"], meta["dt_fs"]
symbols = ["P"] * n_groups + ["S"] * (4 * n_groups) + ["Li"] * n_li
cell = np.eye(3) * box
lag10 = min(n_frames - 1, int(round(10_000.0 / dt_fs)))
out = {"tool": tool}

t0 = time.perf_counter()
if tool == "lilib":
    from lilib.md import Trajectory
    from lilib.rotations import bond_acf, find_groups, rotation_events, track_orientations
elif tool == "gemdat":
    from gemdat import Trajectory as GTrajectory
    from gemdat.orientations import Orientations
    from pymatgen.core import Element
elif tool == "freud":
    import freud
    from lilib.md import Trajectory
    from lilib.rotations import find_groups, track_orientations
out["import_s"] = time.perf_counter() - t0


def lilib_run(traj):
    groups = find_groups(traj, "P", "S")
    orient = track_orientations(traj, groups)
    ev = rotation_events(orient)
    acf = bond_acf(traj, groups, n_boot=0)
    return groups, orient, ev, acf


t0 = time.perf_counter()
if tool == "lilib":
    traj = Trajectory(np.asarray(pos), cell, symbols, dt_fs, unwrapped=True)
    tw = time.perf_counter()
    lilib_run(traj[:64])  # compiles (or loads cached) numba kernels
    out["warmup_s"] = time.perf_counter() - tw
elif tool == "gemdat":
    frac = np.asarray(pos) / box
    gtraj = GTrajectory(
        species=[Element(s) for s in symbols], coords=frac, lattice=cell, time_step=dt_fs * 1e-15
    )
elif tool == "freud":
    traj = Trajectory(np.asarray(pos), cell, symbols, dt_fs, unwrapped=True)
    quats = track_orientations(traj, find_groups(traj, "P", "S")).quaternions
out["prepare_s"] = time.perf_counter() - t0

tracemalloc.start()
t0, c0 = time.perf_counter(), time.process_time()
if tool == "lilib":
    groups, orient, ev, acf = lilib_run(traj)
    out["result"] = (
        f"{ev.n_events} events ({meta['n_jumps']} prescribed), point group "
        f"{orient.point_groups[0].name}, C2(10 ps) {acf.value_at(2, 10.0):.3f}, "
        f"C1(10 ps) {acf.value_at(1, 10.0):.3f}"
    )
elif tool == "gemdat":
    o = Orientations(gtraj, "P", "S").normalize().symmetrize(sym_group="m-3m")
    ac = o.autocorrelation()
    mean = ac["mean"] if isinstance(ac, dict) else np.asarray(ac).mean(axis=0)
    out["result"] = f"autocorrelation(10 ps) {float(np.ravel(mean)[lag10]):.3f} (l = 1, symmetrised vectors)"
elif tool == "freud":
    ra = freud.order.RotationalAutocorrelation(2)
    vals = np.empty(n_frames)
    q0 = np.ascontiguousarray(quats[0], dtype=np.float32)
    for t in range(n_frames):
        ra.compute(q0, np.ascontiguousarray(quats[t], dtype=np.float32))
        vals[t] = ra.order
    out["result"] = f"order(10 ps, origin 0 only) {vals[lag10]:.3f}"
out["analysis_s"] = time.perf_counter() - t0
out["analysis_cpu_s"] = time.process_time() - c0
out["traced_MB"] = tracemalloc.get_traced_memory()[1] / 1e6
tracemalloc.stop()
out["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
print("RESULT " + json.dumps(out))
"""

PROBE = {"lilib": "lilib.rotations", "gemdat": "gemdat.orientations", "freud": "freud.order"}


def _rotvec_to_matrix(w: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation matrices (..., 3, 3) of rotation vectors (..., 3), rad."""
    theta = np.linalg.norm(w, axis=-1, keepdims=True)
    k = np.where(theta > 1e-12, w / np.where(theta > 1e-12, theta, 1.0), 0.0)
    kx = np.zeros((*w.shape, 3))
    kx[..., 0, 1], kx[..., 0, 2] = -k[..., 2], k[..., 1]
    kx[..., 1, 0], kx[..., 1, 2] = k[..., 2], -k[..., 0]
    kx[..., 2, 0], kx[..., 2, 1] = -k[..., 1], k[..., 0]
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * kx + (1 - c) * (kx @ kx)


def make_rotors(n_groups: int, n_frames: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Positions (n_frames, n_atoms, 3) Å: librating, jumping PS4 + vibrating Li; and metadata."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(n_groups ** (1 / 3)))
    box = SPACING_A * side
    grid = np.array([[i, j, k] for i in range(side) for j in range(side) for k in range(side)])
    centres = (grid[:n_groups] + 0.5) * SPACING_A
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3) * 2.05
    # T's 11 non-trivial rotations as matrices: 8 C3 about the bonds, 3 C2 about the axes
    elems = [np.diag(d) for d in ([1, -1, -1], [-1, 1, -1], [-1, -1, 1])]
    for v in tet / np.linalg.norm(tet, axis=1, keepdims=True):
        for ang in (2 * np.pi / 3, -2 * np.pi / 3):
            elems.append(_rotvec_to_matrix(v * ang))
    r0 = _rotvec_to_matrix(rng.normal(size=(n_groups, 3)))
    a = np.exp(-DT_FS / 100.0)
    sigma = np.radians(LIB_RMS_DEG) / np.sqrt(3)
    n_li = max(1, round(n_groups * 180 / 64))
    li_sites = rng.random((n_li, 3)) * box
    pos = np.empty((n_frames, n_groups * 5 + n_li, 3))
    w = rng.normal(0, sigma, (n_groups, 3))
    state = np.broadcast_to(np.eye(3), (n_groups, 3, 3)).copy()
    p_jump = JUMP_RATE_PER_PS * DT_FS / 1000.0
    n_jumps = 0
    chunk = 1000
    for s in range(0, n_frames, chunk):
        e = min(s + chunk, n_frames)
        for t in range(e - s):
            w = a * w + rng.normal(0, sigma * np.sqrt(1 - a * a), (n_groups, 3))
            jump = np.flatnonzero(rng.random(n_groups) < p_jump)
            for g in jump:
                h = elems[rng.integers(len(elems))]
                state[g] = r0[g] @ h @ r0[g].T @ state[g]
            n_jumps += jump.size
            pos[s + t, n_groups : 5 * n_groups] = (
                centres[:, None, :]
                + np.einsum("gij,gjk,gkl,nl->gni", _rotvec_to_matrix(w), state, r0, tet)
            ).reshape(-1, 3)
        pos[s:e, :n_groups] = centres
    pos[:, n_groups : 5 * n_groups] += rng.normal(0, 0.02, (n_frames, 4 * n_groups, 3))
    pos[:, 5 * n_groups :] = li_sites + rng.normal(0, 0.15, (n_frames, n_li, 3))
    meta = {"n_groups": n_groups, "n_li": n_li, "box": box, "dt_fs": DT_FS, "n_jumps": int(n_jumps)}
    return pos, meta


def kernel_comparison(n_fits: int, seed: int = 1) -> list[tuple[str, float, float]]:
    """Best-fit rotations of n_fits noisy tetrahedra: numba QCP vs numpy batched SVD / eigh.

    Returns (method, seconds, worst angle error in degrees against the numba result).
    """
    from lilib.rotations import _kernels
    from lilib.rotations.symmetry import quat_from_matrix

    rng = np.random.default_rng(seed)
    ref = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) * 1.18
    rot = _rotvec_to_matrix(rng.normal(size=(n_fits, 3)))
    cur = np.einsum("fij,nj->fni", rot, ref) + rng.normal(0, 0.05, (n_fits, 4, 3))
    out = []
    q = np.empty((n_fits, 1, 4))
    r = np.empty((n_fits, 1))
    _kernels.best_fit_quaternions(cur[:8, None].copy(), ref[None], q[:8], r[:8])  # compile
    t0 = time.perf_counter()
    _kernels.best_fit_quaternions(cur[:, None].copy(), ref[None], q, r)
    out.append(("numba QCP (lilib)", time.perf_counter() - t0, 0.0))
    q_ref = q[:, 0]

    def err(qq):
        return float(np.degrees(2 * np.arccos(np.clip(np.abs((qq * q_ref).sum(-1)), 0, 1))).max())

    t0 = time.perf_counter()
    h = np.einsum("ni,fnj->fij", ref, cur)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(
        np.linalg.det(np.einsum("fij,fjk->fik", np.swapaxes(vt, 1, 2), np.swapaxes(u, 1, 2)))
    )
    vt[:, 2, :] *= d[:, None]
    mats = np.einsum("fij,fjk->fik", np.swapaxes(vt, 1, 2), np.swapaxes(u, 1, 2))
    out.append(
        ("numpy batched SVD (Kabsch)", time.perf_counter() - t0, err(quat_from_matrix(mats)))
    )
    t0 = time.perf_counter()
    sxx, sxy, sxz = h[:, 0, 0], h[:, 0, 1], h[:, 0, 2]
    syx, syy, syz = h[:, 1, 0], h[:, 1, 1], h[:, 1, 2]
    szx, szy, szz = h[:, 2, 0], h[:, 2, 1], h[:, 2, 2]
    k = np.stack(
        [
            np.stack([sxx + syy + szz, syz - szy, szx - sxz, sxy - syx], -1),
            np.stack([syz - szy, sxx - syy - szz, sxy + syx, szx + sxz], -1),
            np.stack([szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy], -1),
            np.stack([sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz], -1),
        ],
        -2,
    )
    qe = np.linalg.eigh(k)[1][:, :, 3]
    out.append(("numpy batched eigh (Horn)", time.perf_counter() - t0, err(qe)))
    return out


def available(tool: str) -> str | None:
    """None when importable in a child, else the reason."""
    return importable(PROBE[tool])


def run_tool(tool: str, npy: Path, meta: dict, timeout: float) -> dict:
    return run_child(CHILD, tool, [str(npy), json.dumps(meta)], timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="16 groups × 2000 frames")
    ap.add_argument("--groups", type=int, default=64)
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per tool, s")
    args = ap.parse_args()
    n_groups, n_frames = (16, 2000) if args.quick else (args.groups, args.frames)
    tools = ["lilib"] + [t for t in args.tools if t != "lilib"]

    t0 = time.perf_counter()
    pos, meta = make_rotors(n_groups, n_frames)
    print(
        f"synthetic rotors: {n_groups} PS4 + {meta['n_li']} Li ({pos.shape[1]} atoms) × {n_frames} "
        f"frames, {DT_FS:g} fs apart ({n_frames * DT_FS / 1000:g} ps); positions "
        f"{pos.nbytes / 1e6:.0f} MB float64; libration {LIB_RMS_DEG:g}° RMS; "
        f"{meta['n_jumps']} prescribed C3/C2 jumps (made in {time.perf_counter() - t0:.1f} s)"
    )
    n_fits = n_groups * n_frames
    print(f"\nbest-fit rotation kernel, {n_fits} fits of a noisy tetrahedron (in this process):")
    rows = kernel_comparison(n_fits)
    for name, sec, err in rows:
        print(f"  {name:28} {sec:7.3f} s  x numba {sec / rows[0][1]:6.1f}  max Δangle {err:.1e}°")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "rotors.npy"
        np.save(npy, pos)
        del pos
        for tool in tools:
            why = available(tool)
            if why is not None:
                results.append({"tool": tool, "error": f"not importable: {why}"})
                continue
            results.append(run_tool(tool, npy, meta, args.timeout))
    lilib = next((r for r in results if r["tool"] == "lilib" and "analysis_s" in r), None)
    base = lilib["analysis_s"] if lilib else None
    base_cpu = lilib["analysis_cpu_s"] if lilib else None
    print(
        f"\n{'tool':8} {'import s':>8} {'prep s':>7} {'anal. s':>8} {'x lilib':>8} "
        f"{'CPU s':>7} {'x lilib':>8} {'peak MB':>8} {'traced MB':>9}  result"
    )
    for r in results:
        if "error" in r:
            print(f"{r['tool']:8} skipped: {r['error']}")
            continue
        ratio = r["analysis_s"] / base if base else float("nan")
        cpu_ratio = r["analysis_cpu_s"] / base_cpu if base_cpu else float("nan")
        extra = f" (+ warm-up/JIT {r['warmup_s']:.1f} s)" if "warmup_s" in r else ""
        print(
            f"{r['tool']:8} {r['import_s']:8.2f} {r['prepare_s']:7.2f} {r['analysis_s']:8.2f} "
            f"{ratio:8.2f} {r['analysis_cpu_s']:7.2f} {cpu_ratio:8.2f} {r['peak_rss_MB']:8.0f} "
            f"{r['traced_MB']:9.0f}  {r['result']}{extra}"
        )


if __name__ == "__main__":
    main()
