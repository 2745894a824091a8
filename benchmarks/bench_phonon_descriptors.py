"""Lattice-dynamics descriptors on DFT phonon folders: where the time goes, and the phonopy-only peer.

For each folder (default: LiF, β-Li3PS4, LiBH4 P6_3mc from ../shared/data/phonons), one child
process per folder (fresh imports, one BLAS thread unless --threads) reports:
- load: ``load_phonons`` (phonopy.load incl. its symfc force-constant symmetrization);
- descriptors: ``lattice_dynamics`` on the default 8×8×8 Γ-centred mesh, split into the time
  inside phonopy (``run_mesh``, ``run_qpoints``: dynamical matrices, NAC, diagonalization) and
  the rest (our projections, moments, MSD, DOS curves, Debye average);
- peer: phonopy alone to the overlapping numbers (full 8×8×8 mesh with eigenvectors, smeared
  projected DOS, thermal displacements at 300 K), with the ratio peer / descriptors.
Force calls (MLIP or DFT) are not part of this benchmark: DFT forces come from the files.
Usage: python benchmarks/bench_phonon_descriptors.py [--folders mp-1138-20180417 ...] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
folder = sys.argv[1]
t0 = time.perf_counter()
from lilib.phonons import lattice_dynamics, load_phonons
t_import = time.perf_counter() - t0

t = time.perf_counter(); data = load_phonons(folder); t_load = time.perf_counter() - t
ph = data.phonopy
inside = {"run_mesh": 0.0, "run_qpoints": 0.0}
for name in inside:
    original = getattr(ph, name)
    def wrapped(*a, _orig=original, _name=name, **k):
        s = time.perf_counter(); r = _orig(*a, **k); inside[_name] += time.perf_counter() - s
        return r
    setattr(ph, name, wrapped)
t = time.perf_counter(); ld = lattice_dynamics(data); t_desc = time.perf_counter() - t
for name in inside:
    delattr(ph, name)

t = time.perf_counter()
ph.run_mesh([8, 8, 8], with_eigenvectors=True, is_gamma_center=True, is_mesh_symmetry=False)
top = float(ph.mesh.frequencies.max()) + 0.6
ph.run_projected_dos(sigma=0.1, freq_min=0.0, freq_max=top, freq_pitch=0.04,
                     use_tetrahedron_method=False)
ph.run_thermal_displacements(temperatures=[300.0], exclude_gamma_acoustic=True)
t_peer = time.perf_counter() - t
print(json.dumps({
    "formula": ld.formula, "atoms": ld.n_atoms_primitive, "born": ld.born_used,
    "import_s": t_import, "load_s": t_load, "descriptors_s": t_desc,
    "phonopy_mesh_s": inside["run_mesh"], "phonopy_qpoints_s": inside["run_qpoints"],
    "peer_s": t_peer,
    "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folders",
        nargs="+",
        default=["mp-1138-20180417", "mp-985583-20180417", "mp-644223-20180417"],
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per child")
    args = parser.parse_args()
    root = Path(
        os.environ.get("LILIB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    env = dict(
        os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads)
    )
    print(
        f"{'folder':20s} {'formula':8s} {'atoms':>5s} {'load s':>7s} {'descr s':>7s} "
        f"{'in phonopy':>10s} {'ours s':>7s} {'peer s':>7s} {'peer/descr':>10s} {'RSS MB':>7s}"
    )
    for name in args.folders:
        folder = root / "phonons" / name
        if not folder.is_dir():
            print(f"{name}: not found under {root / 'phonons'}")
            continue
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, env=env
        )
        if proc.returncode:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        inside = r["phonopy_mesh_s"] + r["phonopy_qpoints_s"]
        ours = r["descriptors_s"] - inside
        print(
            f"{name:20s} {r['formula']:8s} {r['atoms']:5d} {r['load_s']:7.2f} "
            f"{r['descriptors_s']:7.2f} {inside:10.2f} {ours:7.2f} {r['peer_s']:7.2f} "
            f"{r['peer_s'] / r['descriptors_s']:10.2f} {r['peak_rss_MB']:7.0f}"
        )


if __name__ == "__main__":
    main()
