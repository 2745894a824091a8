"""Tracer MSD + diffusion coefficient: lilib against pymatgen-analysis-diffusion, tidynamics, kinisi.

One synthetic trajectory (default 500 atoms × 20 000 frames, 20 fs apart: 400 Li doing a
Gaussian random walk with D = 0.05 Å²/ps = 5e-6 cm²/s, 100 S vibrating in place) is written
to a temporary .npy file; each tool then runs in its own child process (fresh imports, one BLAS
thread) and reports:
- import: importing the tool;
- prepare: turning the array into the tool's input (pymatgen Structure + displacements, a list
  of ase.Atoms for kinisi; nothing for tidynamics; for lilib a call on a 64-frame slice that
  compiles its numba kernels, as in bench_rotations, shown as "JIT warm-up");
- analysis: MSD over all time origins and D from it (lilib: FFT MSD on one thread, OLS over 10–50 % of the
  run, bootstrap stderr; pymatgen: DiffusionAnalyzer(smoothed='max'), its default;
  tidynamics: its FFT msd per atom, then the same OLS; kinisi: 200 time intervals + its
  Bayesian regression from 10 % on);
- x lilib: analysis time over lilib's (wall, then CPU time: the CPU ratio is the one to
  trust on a loaded machine, every tool being single-threaded here); peak MB: the child's peak RSS (ru_maxrss, includes the
  positions array and the imports); traced MB: tracemalloc peak during the analysis;
- D: the value each tool reports, cm²/s (true value printed above the table).
Peers that are not importable are skipped with the reason. Install them with
``pip install -e .[bench]`` (or put them on PYTHONPATH).

Usage: python benchmarks/bench_msd.py [--quick] [--atoms 500 --frames 20000] [--tools lilib tidynamics]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import importable, run_child

D_TRUE_A2_PS = 0.05
DT_FS = 20.0
TOOLS = ("lilib", "pymatgen-analysis-diffusion", "tidynamics", "kinisi")
FIT = (0.1, 0.5)

CHILD = r"""
import json, resource, sys, time, tracemalloc
tool, npy, n_li, dt_fs, temperature = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), 600.0
import numpy as np
pos = np.load(npy)
n_frames, n_atoms = pos.shape[:2]
symbols = ["Li"] * n_li + ["S"] * (n_atoms - n_li)
cell = np.eye(3) * float(sys.argv[5])
fit = (0.1, 0.5)

def ols_d(msd_a2, dt_fs):
    t = np.arange(msd_a2.size) * dt_fs / 1000.0
    sel = (t >= fit[0] * t[-1]) & (t <= fit[1] * t[-1])
    slope = np.polyfit(t[sel], msd_a2[sel], 1)[0]
    return slope / 6.0 * 1e-4

out = {"tool": tool}
t0 = time.perf_counter()
if tool == "lilib":
    from lilib.md import Trajectory, msd, tracer_diffusivity
elif tool == "pymatgen-analysis-diffusion":
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure
elif tool == "tidynamics":
    import tidynamics
elif tool == "kinisi":
    import scipp as sc
    from ase import Atoms
    from kinisi.analyze import DiffusionAnalyzer
out["import_s"] = time.perf_counter() - t0

t0 = time.perf_counter()
if tool == "pymatgen-analysis-diffusion":
    structure = Structure(Lattice(cell), symbols, pos[0], coords_are_cartesian=True)
    disp = np.ascontiguousarray((pos - pos[0]).transpose(1, 0, 2))
elif tool == "kinisi":
    frames = [Atoms(symbols, positions=p, cell=cell, pbc=True) for p in pos]
if tool == "lilib":  # compile the numba kernels on a tiny input (as a user's second call)
    tw = time.perf_counter()
    tiny = Trajectory(pos[:64, :4], cell, symbols[:4], dt_fs, temperature_K=temperature, unwrapped=True)
    tracer_diffusivity(msd(tiny, "Li", workers=1), fit_window=fit)
    out["warmup_s"] = time.perf_counter() - tw
out["prepare_s"] = time.perf_counter() - t0

tracemalloc.start()
t0, c0 = time.perf_counter(), time.process_time()
if tool == "lilib":
    traj = Trajectory(pos, cell, symbols, dt_fs, temperature_K=temperature, unwrapped=True)
    d = tracer_diffusivity(msd(traj, "Li", workers=1), fit_window=fit)
    out["D_cm2_s"], out["stderr_cm2_s"] = d.value_cm2_s, d.stderr_cm2_s
elif tool == "pymatgen-analysis-diffusion":
    da = DiffusionAnalyzer(structure, disp, "Li", temperature, dt_fs, 1, smoothed="max")
    out["D_cm2_s"], out["stderr_cm2_s"] = da.diffusivity, da.diffusivity_std_dev
elif tool == "tidynamics":
    total = np.zeros(n_frames)
    for i in range(n_li):
        total += tidynamics.msd(pos[:, i, :])
    out["D_cm2_s"] = ols_d(total / n_li, dt_fs)
elif tool == "kinisi":
    steps = np.unique(np.linspace(1, n_frames - 1, 200).astype(int))
    dt = sc.array(dims=["time interval"], values=steps * dt_fs, unit="fs")
    da = DiffusionAnalyzer.from_ase(
        frames, specie="Li", time_step=dt_fs * sc.Unit("fs"),
        step_skip=1 * sc.Unit("dimensionless"), dt=dt, progress=False,
    )
    da.diffusion(fit[0] * (n_frames - 1) * dt_fs * sc.Unit("fs"), progress=False,
                 random_state=np.random.RandomState(0))
    samples = np.asarray(da.D.to_unit("cm2/s").values)
    out["D_cm2_s"], out["stderr_cm2_s"] = float(samples.mean()), float(samples.std())
out["analysis_s"] = time.perf_counter() - t0
out["analysis_cpu_s"] = time.process_time() - c0
out["traced_MB"] = tracemalloc.get_traced_memory()[1] / 1e6
tracemalloc.stop()
out["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
print("RESULT " + json.dumps(out))
"""

PROBE = {
    "lilib": "lilib.md",
    "pymatgen-analysis-diffusion": "pymatgen.analysis.diffusion.analyzer",
    "tidynamics": "tidynamics",
    "kinisi": "kinisi.analyze",
}


def make_walk(n_atoms: int, n_frames: int, seed: int = 0) -> tuple[np.ndarray, int, float]:
    """Positions (n_frames, n_atoms, 3) Å: 80 % Li random walkers, 20 % S vibrating in place."""
    rng = np.random.default_rng(seed)
    n_li = max(1, round(0.8 * n_atoms))
    box = 25.0
    start = rng.random((n_atoms, 3)) * box
    pos = np.empty((n_frames, n_atoms, 3))
    sigma = np.sqrt(2 * D_TRUE_A2_PS * DT_FS / 1000.0)
    pos[:, :n_li] = start[:n_li]
    chunk = 2000
    last = np.zeros((n_li, 3))
    for s in range(1, n_frames, chunk):
        e = min(s + chunk, n_frames)
        steps = np.cumsum(rng.normal(0, sigma, (e - s, n_li, 3)), axis=0) + last
        pos[s:e, :n_li] += steps
        last = steps[-1]
    pos[:, n_li:] = start[n_li:] + rng.normal(0, 0.1, (n_frames, n_atoms - n_li, 3))
    return pos, n_li, box


def available(tool: str) -> str | None:
    """None when importable in a child, else the reason."""
    return importable(PROBE[tool])


def run_tool(tool: str, npy: Path, n_li: int, box: float, timeout: float) -> dict:
    return run_child(CHILD, tool, [str(npy), str(n_li), str(DT_FS), str(box)], timeout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 atoms × 2000 frames")
    ap.add_argument("--atoms", type=int, default=500)
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per tool, s")
    args = ap.parse_args()
    n_atoms, n_frames = (100, 2000) if args.quick else (args.atoms, args.frames)
    tools = ["lilib"] + [t for t in args.tools if t != "lilib"]

    pos, n_li, box = make_walk(n_atoms, n_frames)
    print(
        f"synthetic walk: {n_atoms} atoms ({n_li} Li walkers) × {n_frames} frames, {DT_FS:g} fs "
        f"apart ({(n_frames - 1) * DT_FS / 1000:g} ps); positions {pos.nbytes / 1e6:.0f} MB float64; "
        f"true D = {D_TRUE_A2_PS * 1e-4:.3e} cm²/s; fit {FIT[0]:.0%}–{FIT[1]:.0%} of the run"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        npy = Path(tmp) / "walk.npy"
        np.save(npy, pos)
        del pos
        for tool in tools:
            why = available(tool)
            if why is not None:
                print(f"skip {tool}: not importable ({why})")
                continue
            results.append(run_tool(tool, npy, n_li, box, args.timeout))

    base = next((r for r in results if r["tool"] == "lilib" and "error" not in r), None)
    head = (
        f"{'tool':30s} {'import s':>8s} {'prep s':>7s} {'anal. s':>8s} {'x lilib':>7s} "
        f"{'CPU s':>7s} {'x lilib':>7s} {'peak MB':>8s} {'traced MB':>9s}  D (cm²/s)"
    )
    print(head)
    for r in results:
        if "error" in r:
            print(f"{r['tool']:30s} failed: {r['error']}")
            continue
        ratio = r["analysis_s"] / base["analysis_s"] if base else float("nan")
        cpu_ratio = r["analysis_cpu_s"] / base["analysis_cpu_s"] if base else float("nan")
        d = f"{r['D_cm2_s']:.4e}"
        if r.get("stderr_cm2_s") is not None:
            d += f" ± {r['stderr_cm2_s']:.1e}"
        if "warmup_s" in r:
            d += f" (+ JIT warm-up {r['warmup_s']:.1f} s, in prep)"
        print(
            f"{r['tool']:30s} {r['import_s']:8.2f} {r['prepare_s']:7.2f} {r['analysis_s']:8.2f} "
            f"{ratio:7.2f} {r['analysis_cpu_s']:7.2f} {cpu_ratio:7.2f} {r['peak_rss_MB']:8.0f} "
            f"{r['traced_MB']:9.0f}  {d}"
        )


if __name__ == "__main__":
    main()
