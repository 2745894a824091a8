"""Loading DFT phonon data (phonondb PBEsol folders) and descriptors on every one of them.

Needs ``../shared/data/phonons`` (or ``LILIB_SHARED_DATA``); skipped where it is absent.
The 21 folders are loaded once per module (phonopy symmetrizes the force constants, ~0.3–5 s each).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lilib.config import shared_data_dir
from lilib.errors import ArgumentError, DataNotFoundError, FileFormatError, LilibError
from lilib.phonons import lattice_dynamics, load_phonons

SHARED = shared_data_dir()
PHONONS = SHARED / "phonons" if SHARED is not None else None
pytestmark = pytest.mark.skipif(
    PHONONS is None or not PHONONS.is_dir(),
    reason="no shared phonon data (../shared/data/phonons or LILIB_SHARED_DATA)",
)

#: Folders with a mesh frequency below −0.1 THz (Γ-centred 8×8×8), per the issue: both Li3N
#: phases, Li3PS4, LiBH4 P6_3mc, cubic Na3PS4, Na3SbS4.
EXPECTED_IMAGINARY = {
    "mp-2251-20180417",  # Li3N P6/mmm
    "mp-2341-20180417",  # Li3N P6_3/mmc
    "mp-985583-20180417",  # Li3PS4 Pnma
    "mp-644223-20180417",  # LiBH4 P6_3mc
    "mp-985584-20180417",  # Na3PS4 I-43m
    "mp-10167-20180417",  # Na3SbS4 I-43m
}
LIF = "mp-1138-20180417"
TOLERANCE_THZ = 0.05


# The 21-folder survey runs in a child interpreter with one BLAS thread: on a 2-core machine
# shared with other jobs, OpenBLAS threads in symfc's eigensolvers (phonopy's force-constant
# symmetrization) oversubscribe the cores and loading takes ~6× longer (46 s vs 7 s measured).
SURVEY = r"""
import json, sys
from pathlib import Path
import numpy as np
from lilib.phonons import lattice_dynamics, load_phonons


def smearing_centres(ph, mesh=(8, 8, 8), sigma=0.1, pitch=0.04):
    # phonopy's own projected DOS (Gaussian smearing, full mesh); first moments over nu > 0
    # by the trapezoid rule (exact for Gaussians when pitch < sigma)
    ph.run_mesh(mesh, with_eigenvectors=True, is_gamma_center=True, is_mesh_symmetry=False)
    top = float(ph.mesh.frequencies.max()) + 6 * sigma
    pdos = ph.run_projected_dos(
        sigma=sigma, freq_min=0.0, freq_max=top, freq_pitch=pitch, use_tetrahedron_method=False
    )
    x, per_atom = pdos.frequency_points, pdos.projected_dos
    symbols = list(ph.primitive.symbols)
    out = {}
    for el in dict.fromkeys(symbols):
        y = per_atom[[i for i, s in enumerate(symbols) if s == el]].sum(axis=0)
        out[el] = float(np.trapezoid(x * y, x) / np.trapezoid(y, x))
    return out


def moment_centres(ph):
    # phonopy's run_moment(order=1, is_projection=True) on the same full mesh, atom-averaged
    moment = ph.run_moment(order=1, is_projection=True).moment
    symbols = list(ph.primitive.symbols)
    return {
        el: float(np.mean([moment[i] for i, s in enumerate(symbols) if s == el]))
        for el in dict.fromkeys(symbols)
    }


out = {}
for folder in sorted(p for p in Path(sys.argv[1]).iterdir() if p.is_dir()):
    data = load_phonons(folder)
    ld = lattice_dynamics(data)
    row = json.loads(ld.to_dataframe().iloc[0].to_json())
    row.update(
        centres=ld.band_centres_THz,
        smearing=smearing_centres(data.phonopy),
        moment=moment_centres(data.phonopy),
        mesh_tuple=list(ld.mesh),
        born_file=None if data.born_file is None else str(data.born_file),
        force_file=str(data.force_file),
        structure_file=str(data.structure_file),
        n_supercell=len(data.phonopy.supercell),
        n_primitive=len(data.phonopy.primitive),
        formula=data.formula,
    )
    out[folder.name] = row
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def survey() -> dict[str, dict]:
    """label → descriptors of that folder plus the two phonopy routes to the band centres."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", SURVEY, str(PHONONS)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_all_21_folders_load_with_born_flag_and_primitive_matrix(survey):
    assert len(survey) == 21
    for label, row in survey.items():
        has_born = (PHONONS / label / "BORN").is_file()
        assert row["born_used"] == has_born, label
        assert row["born_file"] == (str(PHONONS / label / "BORN") if has_born else None)
        assert Path(row["force_file"]).name == "FORCE_SETS"
        assert Path(row["structure_file"]).name == "phonon.yaml"
        conf = (PHONONS / label / "phonopy.conf").read_text()
        if "PRIMITIVE_AXIS" in conf:
            assert row["primitive_matrix_source"] == "phonopy.conf PRIMITIVE_AXIS", label
        else:
            assert row["primitive_matrix_source"] == "auto", label
        # the supercell has as many atoms as FORCE_SETS says
        natom = int((PHONONS / label / "FORCE_SETS").read_text().split()[0])
        assert row["n_supercell"] == natom, label


def test_band_centres_agree_with_phonopy_projected_dos(survey):
    """Every element of every folder: our mesh sums vs phonopy's smeared projected DOS."""
    rows, worst = [], 0.0
    for label, row in survey.items():
        for el, ours in row["centres"].items():
            theirs = row["smearing"][el]
            dev = abs(ours - theirs)
            worst = max(worst, dev)
            rows.append((label, row["formula"], el, ours, theirs, row["moment"][el], dev))
    print("\nlabel                formula  el  ours_THz  phonopy_pdos  phonopy_moment  |ours-pdos|")
    for r in rows:
        print(f"{r[0]:20s} {r[1]:8s} {r[2]:3s} {r[3]:9.4f} {r[4]:12.4f} {r[5]:14.4f} {r[6]:10.4f}")
    print(f"max |ours - phonopy pdos| = {worst:.4f} THz")
    bad = [r for r in rows if r[6] > TOLERANCE_THZ]
    assert not bad, bad


def test_band_centres_agree_with_phonopy_run_moment_without_imaginary_modes(survey):
    """phonopy's run_moment normalises each atom and Cartesian component on its own; that
    equals our element moment when no mode is left out, i.e. without imaginary modes."""
    for label, row in survey.items():
        if row["has_imaginary_modes"]:
            continue
        for el, ours in row["centres"].items():
            assert abs(ours - row["moment"][el]) < TOLERANCE_THZ, (label, el)


def test_imaginary_modes_flagged_on_gamma_centred_8_mesh(survey):
    flagged = set()
    print("\nlabel                formula  min_THz  frac<-0.1  flagged")
    for label, row in survey.items():
        assert row["mesh_tuple"] == [8, 8, 8]
        assert row["has_imaginary_modes"] == (row["min_frequency_THz"] < -0.1), label
        assert (row["imaginary_fraction"] > 0) == row["has_imaginary_modes"], label
        print(
            f"{label:20s} {row['formula']:8s} {row['min_frequency_THz']:7.3f} "
            f"{row['imaginary_fraction']:9.4f}  {row['has_imaginary_modes']}"
        )
        if row["has_imaginary_modes"]:
            flagged.add(label)
    assert flagged == EXPECTED_IMAGINARY


def test_imaginary_modes_never_enter_band_centres(survey):
    row = survey["mp-644223-20180417"]  # LiBH4 P6_3mc, 11 % of mesh modes imaginary
    assert row["imaginary_fraction"] > 0.05
    assert all(c > 0 for c in row["centres"].values())
    assert row["mobile_msd_A2"] > 0


def test_descriptor_values_are_physical(survey):
    print("\nlabel                formula  Debye_K  v_m_m_s  MSD300_A2  k_eV_A2")
    for label, row in survey.items():
        print(
            f"{label:20s} {row['formula']:8s} {row['debye_temperature_K'] or float('nan'):7.1f} "
            f"{row['debye_velocity_m_s'] or float('nan'):8.0f} {row['mobile_msd_A2']:9.4f} "
            f"{row['mobile_force_constant_eV_A2']:7.3f}"
        )
        assert row["mobile"] in ("Li", "Na"), label
        assert 1.0 < row["mobile_band_centre_THz"] < 20.0, label
        assert 0.005 < row["mobile_msd_A2"] < 1.0, label
        assert row["mobile_force_constant_eV_A2"] > 0, label
        if row["acoustic_stable"]:
            assert 100 < row["debye_temperature_K"] < 1500, label
        else:
            assert row["debye_temperature_K"] is None, label  # NaN in JSON
    # heavier halide, softer lattice: LiF > LiCl > LiBr > LiI (band centre, Debye temperature)
    series = ["mp-1138-20180417", "mp-22905-20180417", "mp-23259-20180417", "mp-22899-20180417"]
    centres = [survey[s]["mobile_band_centre_THz"] for s in series]
    debye = [survey[s]["debye_temperature_K"] for s in series]
    assert centres == sorted(centres, reverse=True)
    assert debye == sorted(debye, reverse=True)


def test_lithium_fluoride(survey):
    row = survey[LIF]
    assert row["formula"] == "LiF" and row["anion"] == "F" and row["n_primitive"] == 2
    # DESIGN.md §3 quotes the PBEsol Li band centre of rocksalt LiF as 11.70 THz
    assert row["mobile_band_centre_THz"] == pytest.approx(11.70, abs=0.02)
    ld = lattice_dynamics(load_phonons(PHONONS / LIF))
    assert ld.mobile_band_centre_THz == pytest.approx(row["mobile_band_centre_THz"], abs=1e-9)
    df = ld.to_dataframe()
    assert df.index[0] == LIF and bool(df.loc[LIF, "born_used"])


# ---------------------------------------------------------------- bad input, small copies


@pytest.fixture
def lif_copy(tmp_path) -> Path:
    dst = tmp_path / "LiF"
    dst.mkdir()
    for name in ("phonon.yaml", "disp.yaml", "FORCE_SETS", "BORN", "phonopy.conf"):
        shutil.copy(PHONONS / LIF / name, dst / name)
    return dst


def test_copy_loads_and_nac_can_be_switched_off(lif_copy):
    data = load_phonons(lif_copy)
    assert data.born_used and data.born_file == lif_copy / "BORN"
    assert data.n_displacements == 2
    assert not load_phonons(lif_copy, nac=False).born_used
    (lif_copy / "BORN").unlink()
    assert not load_phonons(lif_copy).born_used


def test_primitive_matrix_choices(lif_copy):
    assert len(load_phonons(lif_copy, primitive_matrix="P").phonopy.primitive) == 8
    explicit = load_phonons(lif_copy, primitive_matrix=np.eye(3))
    assert explicit.primitive_matrix_source == "argument"
    assert len(explicit.phonopy.primitive) == 8
    (lif_copy / "phonopy.conf").unlink()
    auto = load_phonons(lif_copy)
    assert auto.primitive_matrix_source == "auto"
    assert len(auto.phonopy.primitive) == 2
    with pytest.raises(ArgumentError, match="primitive_matrix"):
        load_phonons(lif_copy, primitive_matrix="Q")
    with pytest.raises(ArgumentError, match="primitive_matrix"):
        load_phonons(lif_copy, primitive_matrix=np.zeros((3, 3)))


def test_phonopy_params_yaml_route(lif_copy, tmp_path):
    ref = load_phonons(lif_copy)
    single = tmp_path / "params"
    single.mkdir()
    ref.phonopy.save(single / "phonopy_params.yaml")
    data = load_phonons(single)
    assert data.structure_file.name == "phonopy_params.yaml"
    assert data.force_file == data.structure_file
    assert data.born_used and data.born_file == data.structure_file
    q = [[0.1, 0.2, 0.3]]
    f_ref = ref.phonopy.run_qpoints(q).frequencies
    f_new = data.phonopy.run_qpoints(q).frequencies
    np.testing.assert_allclose(f_new, f_ref, atol=1e-6)


def test_phonopy_disp_yaml_with_force_sets_route(lif_copy, tmp_path):
    ref = load_phonons(lif_copy)
    folder = tmp_path / "disp"
    folder.mkdir()
    no_forces = {"force_sets": False, "born_effective_charge": False, "dielectric_constant": False}
    ref.phonopy.save(folder / "phonopy_disp.yaml", settings=no_forces)
    shutil.copy(lif_copy / "FORCE_SETS", folder / "FORCE_SETS")
    data = load_phonons(folder)
    assert data.structure_file.name == "phonopy_disp.yaml"
    assert data.force_file.name == "FORCE_SETS" and not data.born_used
    assert data.primitive_matrix_source == "phonopy_disp.yaml primitive_matrix"
    np.testing.assert_allclose(data.primitive_matrix, ref.primitive_matrix)
    # FORCE_SETS for displacements other than those listed in the yaml
    lines = (folder / "FORCE_SETS").read_text().splitlines()
    lines[4] = "  0.0000000000000000   0.0100000000000000   0.0000000000000000"
    (folder / "FORCE_SETS").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match=r"differs from phonopy_disp\.yaml"):
        load_phonons(folder)


def test_missing_files(lif_copy, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match="phonon structure file"):
        load_phonons(empty)
    with pytest.raises(DataNotFoundError):
        load_phonons(tmp_path / "nowhere")
    (lif_copy / "FORCE_SETS").unlink()
    with pytest.raises(DataNotFoundError, match="FORCE_SETS") as info:
        load_phonons(lif_copy)
    assert isinstance(info.value, LilibError)
    assert str(lif_copy) in str(info.value)


def test_malformed_yaml(lif_copy):
    text = (lif_copy / "phonon.yaml").read_text()
    (lif_copy / "phonon.yaml").write_text(text.replace("lattice:", "lattice: [[1, 2", 1))
    with pytest.raises(FileFormatError) as info:
        load_phonons(lif_copy)
    assert info.value.path == lif_copy / "phonon.yaml"
    assert "malformed yaml" in str(info.value)
    (lif_copy / "phonon.yaml").write_text("- just\n- a list\n")
    with pytest.raises(FileFormatError, match="mapping"):
        load_phonons(lif_copy)
    (lif_copy / "phonon.yaml").write_text(
        "name: phonon\nsupercell_matrix: [[2,0,0],[0,2,0],[0,0,2]]\n"
    )
    with pytest.raises(FileFormatError, match="no unit cell"):
        load_phonons(lif_copy)


def test_malformed_born(lif_copy):
    lines = (lif_copy / "BORN").read_text().splitlines()
    (lif_copy / "BORN").write_text("\n".join(lines[:2]) + "\n")  # Z* rows missing
    with pytest.raises(FileFormatError) as info:
        load_phonons(lif_copy)
    assert info.value.path == lif_copy / "BORN"
    assert load_phonons(lif_copy, nac=False).born_used is False


def test_force_sets_for_another_supercell(lif_copy):
    # Li2O's FORCE_SETS: 96-atom supercell; LiF's 2×2×2 conventional supercell has 64 atoms
    shutil.copy(PHONONS / "mp-1960-20180417" / "FORCE_SETS", lif_copy / "FORCE_SETS")
    with pytest.raises(FileFormatError, match=r"96 atoms.*64 atoms") as info:
        load_phonons(lif_copy)
    assert info.value.path == lif_copy / "FORCE_SETS"


def test_supercell_matrix_disagreeing_with_force_sets(lif_copy):
    text = (lif_copy / "phonon.yaml").read_text()
    start = text.index("supercell_matrix:")
    block = text[start : text.index("distance:")]
    (lif_copy / "phonon.yaml").write_text(
        text.replace(block, "supercell_matrix: [[3,0,0],[0,3,0],[0,0,3]]\n")
    )
    with pytest.raises(FileFormatError, match=r"64 atoms.*216 atoms"):
        load_phonons(lif_copy)


def test_truncated_force_sets(lif_copy):
    lines = (lif_copy / "FORCE_SETS").read_text().splitlines()
    (lif_copy / "FORCE_SETS").write_text("\n".join(lines[: len(lines) - 10]) + "\n")
    with pytest.raises(FileFormatError, match="truncated") as info:
        load_phonons(lif_copy)
    assert info.value.path == lif_copy / "FORCE_SETS"


def test_displacement_counts_disagree(lif_copy):
    # header says 1 displacement but two blocks follow
    lines = (lif_copy / "FORCE_SETS").read_text().splitlines()
    lines[1] = "1"
    (lif_copy / "FORCE_SETS").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="more data follow"):
        load_phonons(lif_copy)


def test_displacement_file_disagrees_with_force_sets(lif_copy):
    text = (lif_copy / "disp.yaml").read_text()
    start = text.index("- atom:", text.index("- atom:") + 1)
    end = text.index("lattice:")
    (lif_copy / "disp.yaml").write_text(text[:start] + text[end:])  # drop the 2nd displacement
    with pytest.raises(FileFormatError, match=r"2 displacements, but disp.yaml lists 1") as info:
        load_phonons(lif_copy)
    assert info.value.path == lif_copy / "FORCE_SETS"
