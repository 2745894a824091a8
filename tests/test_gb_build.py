"""GB builder: CSL Σ tables, stoichiometric and neutral bicrystals, translations, errors."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from itertools import permutations, product

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.neighborlist import neighbor_list

from lilib import structures
from lilib.errors import ArgumentError, LilibError, UnknownStructureError
from lilib.gb import (
    EV_PER_A2_TO_J_PER_M2,
    GBModel,
    build_gb,
    enumerate_sigma,
    rigid_translation_scan,
)

# --------------------------------------------------------------------------------------------
# Σ enumeration against the CSL formula


def csl_angles(axis: tuple[int, int, int], max_sigma: int) -> dict[int, set[float]]:
    """Cubic CSL: Σ = odd part of m² + N n² (N = u²+v²+w², gcd(m, n) = 1), tan(θ/2) = (n/m)√N."""
    big_n = sum(x * x for x in axis)
    out: dict[int, set[float]] = {}
    for n in range(1, math.isqrt(4 * max_sigma // big_n) + 2):
        for m in range(0, math.isqrt(4 * max_sigma) + 2):
            if math.gcd(m, n) != 1:
                continue
            s = m * m + big_n * n * n
            while s % 2 == 0:
                s //= 2
            if 1 < s <= max_sigma:
                theta = 2 * math.degrees(math.atan2(n * math.sqrt(big_n), m))
                out.setdefault(s, set()).add(round(theta, 6))
    return out


@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 1, 0), (1, 1, 1), (2, 1, 0), (2, 1, 1)])
def test_sigma_table_matches_csl_formula(axis):
    table = enumerate_sigma("LiF", axis, 49)
    expected = csl_angles(axis, 49)
    assert table.lattice_type == "cubic" and table.ratio is None
    assert set(table.sigmas) == set(expected)
    for s in table.sigmas:
        assert {round(a, 6) for a in table.angles(s)} == expected[s], s
    df = table.to_dataframe()
    assert list(df.columns) == ["sigma", "angle_deg", "smallest"]
    assert df["smallest"].sum() == len(table.sigmas)


# Textbook values, each recomputed from tan(θ/2) = (n/m)√N in the assertion.
KNOWN = [
    ((0, 0, 1), 5, 36.87, 1, 3),
    ((0, 0, 1), 13, 22.62, 1, 5),
    ((0, 0, 1), 17, 28.07, 1, 4),
    ((0, 0, 1), 25, 16.26, 1, 7),
    ((0, 0, 1), 29, 43.60, 2, 5),
    ((1, 1, 0), 3, 70.53, 1, 2),
    ((1, 1, 0), 9, 38.94, 1, 4),
    ((1, 1, 0), 11, 50.48, 1, 3),
    ((1, 1, 1), 3, 60.00, 1, 3),
    ((1, 1, 1), 7, 38.21, 1, 5),
    ((1, 1, 1), 13, 27.80, 1, 7),
]


@pytest.mark.parametrize(("axis", "sigma", "theta", "n", "m"), KNOWN)
def test_known_csl_angles(axis, sigma, theta, n, m):
    by_formula = 2 * math.degrees(math.atan(n / m * math.sqrt(sum(x * x for x in axis))))
    assert by_formula == pytest.approx(theta, abs=0.005)
    assert enumerate_sigma("LiF", axis, 30).angles(sigma)[0] == pytest.approx(by_formula, abs=1e-6)


def test_non_cubic_enumeration_uses_a_rational_axial_ratio():
    table = enumerate_sigma("Li3N", (0, 0, 1), 20)
    assert table.lattice_type == "hexagonal"
    assert table.ratio is not None and len(table.ratio) == 2
    assert 7 in table.sigmas
    # rotations about hexagonal c do not depend on c/a: Σ7 at 21.79°, as in the cubic [111] case
    assert table.angles(7)[0] == pytest.approx(2 * math.degrees(math.atan(math.sqrt(3) / 9)))


# --------------------------------------------------------------------------------------------
# built cells

CASES = [
    ("LiF", (0, 0, 1), 5, (3, 1, 0), "tilt", {}),
    ("LiF", (0, 0, 1), 5, (2, 1, 0), "tilt", {}),
    ("LiF", (0, 0, 1), 13, (5, 1, 0), "tilt", {}),
    ("LiF", (1, 1, 0), 3, (1, -1, 1), "tilt", {}),
    ("LiF", (1, 1, 0), 3, (1, -1, 2), "tilt", {}),
    ("LiF", (0, 0, 1), 5, (0, 0, 1), "twist", {}),
    ("LiF", (1, 1, 1), 7, (1, 1, 1), "twist", {}),
    ("Li2O", (1, 1, 0), 3, (1, -1, 2), "tilt", {}),
    ("Li2O", (1, 1, 0), 3, (1, -1, 1), "tilt", {}),
    ("Li2O", (0, 0, 1), 5, (3, 1, 0), "tilt", {}),
    ("Li2O", (1, 1, 1), 3, (1, 1, 1), "twist", {"in_plane_repeat": (2, 2)}),
    ("LiCl", (0, 0, 1), 5, (3, 1, 0), "tilt", {}),
    ("Li3OCl", (0, 0, 1), 5, (3, 1, 0), "tilt", {}),
    ("Li3N", (0, 0, 1), 7, (0, 0, 1), "twist", {}),
]
_BUILT: dict[int, GBModel] = {}


def _model(k: int) -> GBModel:
    if k not in _BUILT:
        name, axis, sigma, plane, kind, kw = CASES[k]
        kw = {"max_removed_fraction": 0.3, **kw}
        _BUILT[k] = build_gb(name, axis, sigma, plane, kind, **kw)
    return _BUILT[k]


def _bulk_pair_minima(name: str) -> dict[frozenset, float]:
    atoms = structures.load(name)
    i, j, d = neighbor_list("ijd", atoms, 6.0)
    sym = np.array(atoms.get_chemical_symbols())
    out: dict[frozenset, float] = {}
    for a, b, dist in zip(sym[i], sym[j], d):
        key = frozenset((a, b))
        out[key] = min(out.get(key, np.inf), dist)
    return out


@pytest.mark.parametrize("k", range(len(CASES)), ids=[f"{c[0]}-S{c[2]}{c[3]}" for c in CASES])
def test_cell_is_neutral_stoichiometric_and_contact_free(k):
    name, axis, sigma, plane, kind, _ = CASES[k]
    m = _model(k)
    info = structures.info(name)
    # stoichiometry: an integer multiple of the published formula unit
    bulk_comp = Counter(structures.load(name).get_chemical_symbols())
    g = math.gcd(*bulk_comp.values())
    unit = {e: c // g for e, c in bulk_comp.items()}
    comp = Counter(m.atoms.get_chemical_symbols())
    n_units = comp[next(iter(unit))] // unit[next(iter(unit))]
    assert dict(comp) == {e: n_units * c for e, c in unit.items()}
    assert n_units == m.n_formula_units and m.formula_unit == unit
    # neutrality with the library's oxidation states
    charge = sum(info.oxidation_states[s] for s in m.atoms.get_chemical_symbols())
    assert charge == pytest.approx(0.0, abs=1e-9) and m.total_charge == pytest.approx(0.0)
    # no contact below 0.75 × the bulk distance of that species pair
    minima = _bulk_pair_minima(name)
    i, j, d = neighbor_list("ijd", m.atoms, 3.5)
    sym = np.array(m.atoms.get_chemical_symbols())
    thr = np.array([0.75 * minima[frozenset((a, b))] for a, b in zip(sym[i], sym[j])])
    assert np.all(d >= thr - 1e-9)
    assert m.min_distance_A == pytest.approx(d.min())
    # removed atoms are whole formula units, each taken from one GB's half
    assert m.n_atoms_before - m.n_atoms == len(m.removed)
    for u in {r.unit for r in m.removed}:
        group = [r for r in m.removed if r.unit == u]
        assert dict(Counter(r.symbol for r in group)) == unit
        assert len({r.gb for r in group}) == 1
    # labels and planes
    assert m.grain.shape == (m.n_atoms,) and set(np.unique(m.grain)) == {0, 1}
    assert np.array_equal(m.atoms.arrays["grain"], m.grain)
    p0, p1 = m.gb_positions_A
    lz = m.normal_length_A
    assert 0 <= p0 < lz and 0 <= p1 < lz
    assert abs((p1 - p0) % lz - lz / 2) < 1.5
    z = m.atoms.positions[:, 2]
    above_p0 = (z - p0) % lz
    width1 = (p1 - p0) % lz
    slack = 1.0  # corrugated GBs: atoms may sit a little beyond the mean plane
    in1 = above_p0 < width1
    wrong = (in1 != (m.grain == 1)) & (m.distance_to_gb_A() > slack)
    assert not wrong.any()
    # cell frame: normal along z, a along x
    cell = np.array(m.atoms.cell)
    assert abs(cell[0, 1]) < 1e-9 and abs(cell[0, 2]) < 1e-9 and abs(cell[1, 2]) < 1e-9
    assert cell[2, 2] == pytest.approx(lz)
    assert m.area_A2 == pytest.approx(abs(np.cross(cell[0], cell[1])[2]))
    assert m.sigma == sigma and m.axis == axis and m.plane == plane and m.kind == kind


def test_pymatgen_overlap_removal_is_not_stoichiometric():
    """The motivating counterexample; if pymatgen fixes it this test says so."""
    from pymatgen.core.interface import GrainBoundaryGenerator

    s = structures.load_pymatgen("Li2O")
    s.remove_oxidation_states()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gb = GrainBoundaryGenerator(s).gb_from_parameters((1, 1, 1), 60.0, expand_times=2)
    comp = gb.composition.get_el_amt_dict()
    charge = comp["Li"] * 1 - comp["O"] * 2
    assert comp["Li"] != 2 * comp["O"], f"pymatgen now keeps Li2O stoichiometry: {comp}"
    assert charge != 0
    assert any(lab is None for lab in gb.site_properties["grain_label"])
    ours = build_gb("Li2O", (1, 1, 1), 3, (1, 1, 1), "twist", translation=(2 / 3, 1 / 3))
    assert ours.composition["Li"] == 2 * ours.composition["O"] and not ours.removed


def test_rule_removes_contacts_pymatgen_leaves_with_rm_ratio_zero():
    m = _model(0)  # LiF Σ5(310): the unrelaxed cut puts like ions 1.27 Å apart
    assert len(m.removed) > 0 and len(m.removed) % 2 == 0
    assert "formula unit" in m.rule


def test_same_input_gives_identical_cells():
    a = build_gb("Li2O", (0, 0, 1), 5, (3, 1, 0))
    b = build_gb("Li2O", (0, 0, 1), 5, (3, 1, 0))
    assert np.array_equal(a.atoms.positions, b.atoms.positions)
    assert a.atoms.get_chemical_symbols() == b.atoms.get_chemical_symbols()
    assert np.array_equal(np.array(a.atoms.cell), np.array(b.atoms.cell))
    assert np.array_equal(a.grain, b.grain)
    assert a.removed == b.removed and a.gb_positions_A == b.gb_positions_A


def _proper_cubic_rotations() -> list[np.ndarray]:
    ops = []
    for perm in permutations(range(3)):
        for signs in product((1, -1), repeat=3):
            mat = np.zeros((3, 3))
            for r, (c, s) in enumerate(zip(perm, signs)):
                mat[r, c] = s
            if np.linalg.det(mat) > 0:
                ops.append(mat)
    return ops


def _grain_frame(m: GBModel, g: int) -> np.ndarray:
    """Cube axes of a rocksalt grain from its interior Li–F bonds (rows, right-handed)."""
    inner = (m.grain == g) & (m.distance_to_gb_A() > 3.0)
    i, j, vec = neighbor_list("ijD", m.atoms, 2.2)
    sel = inner[i] & (m.grain[j] == g)
    v = vec[sel] / np.linalg.norm(vec[sel], axis=1)[:, None]
    e1 = v[0]
    e2 = next(x for x in v if abs(x @ e1) < 0.05)
    return np.stack([e1, e2, np.cross(e1, e2)])


@pytest.mark.parametrize(
    ("k", "disorientation"),
    [(0, 36.8699), (2, 22.6199), (3, 60.0), (4, 60.0), (5, 36.8699), (6, 38.2132)],
)
def test_grains_are_misoriented_by_the_csl_angle(k, disorientation):
    """Σ3 about [110] (70.53°) is the same misorientation as 60° about [111]."""
    m = _model(k)
    mis = _grain_frame(m, 1) @ _grain_frame(m, 0).T
    angles = [
        math.degrees(math.acos(np.clip((np.trace(s @ mis) - 1) / 2, -1, 1)))
        for s in _proper_cubic_rotations()
    ]
    assert min(angles) == pytest.approx(disorientation, abs=1e-3)


def test_translation_shifts_grain_one_rigidly():
    loose = {"contact_ratio": 0.1}  # nothing removed: compare the rigid grains themselves
    base = build_gb("LiF", (0, 0, 1), 5, (0, 0, 1), "twist", **loose)
    moved = build_gb("LiF", (0, 0, 1), 5, (0, 0, 1), "twist", translation=(0.5, 0.25), **loose)
    assert not base.removed and not moved.removed
    cell = np.array(base.atoms.cell)
    shift = 0.5 * cell[0] + 0.25 * cell[1]
    for g, delta in ((0, np.zeros(3)), (1, shift)):
        a = base.atoms.positions[base.grain == g] + delta
        b = moved.atoms.positions[moved.grain == g]
        frac = np.linalg.solve(cell.T, (a[:, None, :] - b[None, :, :]).reshape(-1, 3).T).T
        frac -= np.round(frac)
        dist = np.linalg.norm(frac @ cell, axis=1).reshape(len(a), len(b))
        assert np.all(dist.min(axis=1) < 1e-6)
    assert moved.translation == (0.5, 0.25)
    same = build_gb("LiF", (0, 0, 1), 5, (0, 0, 1), "twist", translation=(1.5, -0.75), **loose)
    assert np.allclose(same.atoms.positions, moved.atoms.positions)


def test_gap_and_in_plane_repeat():
    m = build_gb("LiF", (0, 0, 1), 5, (0, 0, 1), "twist", gap_A=1.0, in_plane_repeat=(2, 1))
    base = build_gb("LiF", (0, 0, 1), 5, (0, 0, 1), "twist")
    assert m.normal_length_A == pytest.approx(base.normal_length_A + 2.0)
    assert m.n_atoms == 2 * base.n_atoms
    assert m.area_A2 == pytest.approx(2 * base.area_A2)


def test_thicker_grains_on_request():
    thin = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0), min_grain_thickness_A=4.0)
    thick = build_gb("LiF", (0, 0, 1), 5, (3, 1, 0), min_grain_thickness_A=16.0)
    assert thick.normal_length_A >= 32.0 > thin.normal_length_A
    assert thick.expand_times > thin.expand_times


def test_results_tables_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    m = _model(0)
    df = m.to_dataframe()
    assert len(df) == m.n_atoms
    assert set(df.columns) >= {"symbol", "grain", "z_A", "distance_to_gb_A"}
    rem = m.removed_dataframe()
    assert len(rem) == len(m.removed) and set(rem["gb"]) <= {0, 1}
    s = m.summary()
    assert s["composition"] == "F28Li28" and s["sigma"] == 5 and s["plane"] == "(310)"
    assert m.atoms.info["gb_sigma"] == 5
    assert m.plot() is not None
    assert enumerate_sigma("LiF", (0, 0, 1), 30).plot() is not None


# --------------------------------------------------------------------------------------------
# rigid translations and GB energy


def test_translation_scan_with_emt_on_copper():
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    scan = rigid_translation_scan(cu, (0, 0, 1), 5, (3, 1, 0), grid=(2, 2), calculator=EMT())
    assert scan.translations.shape == (4, 2) and not scan.failed
    ref = bulk("Cu", "fcc", a=3.61, cubic=True)
    ref.calc = EMT()
    e_bulk = ref.get_potential_energy() / len(ref)
    assert scan.bulk_energy_per_atom_eV == pytest.approx(e_bulk)
    for k, m in enumerate(scan.models):
        gamma = (scan.energies_eV[k] - m.n_atoms * e_bulk) / (2 * m.area_A2)
        assert scan.gamma_eV_A2[k] == pytest.approx(gamma)
        assert scan.gamma_J_m2[k] == pytest.approx(gamma * EV_PER_A2_TO_J_PER_M2)
    # unrelaxed EMT Σ5(310) in Cu: around 1 J/m², certainly between 0.3 and 3
    assert np.all((scan.gamma_J_m2 > 0.3) & (scan.gamma_J_m2 < 3.0))
    assert scan.best().translation == tuple(scan.translations[np.argmin(scan.gamma_J_m2)])
    df = scan.to_dataframe()
    assert list(df["gamma_J_m2"]) == pytest.approx(list(scan.gamma_J_m2))
    assert abs(EV_PER_A2_TO_J_PER_M2 - 1.602176634e-19 / 1e-20) < 1e-9


def test_scan_without_calculator_keeps_failures():
    scan = rigid_translation_scan("Li2O", (1, 1, 1), 3, (1, 1, 1), "twist", grid=(3, 3))
    assert len(scan.models) + len(scan.failed) == 9
    assert (2 / 3, 1 / 3) in [tuple(t) for t in scan.translations]
    assert all("Å apart" in reason for _, reason in scan.failed)
    assert np.all(np.isnan(scan.gamma_J_m2))
    assert not scan.best().removed


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"plane": (1, 1, 1)}, "plane"),  # (111) does not contain [110]: not a tilt
        ({"plane": (1, -1, 2), "kind": "twist"}, "plane"),  # twist needs plane ⟂ axis
        ({"sigma": 5}, "sigma"),  # no Σ5 about [110]
        ({"sigma": 2}, "sigma"),
        ({"angle_deg": 50.0}, "angle_deg"),
        ({"kind": "mixed"}, "kind"),
        ({"axis": (0, 0, 0)}, "axis"),
        ({"plane": (1, 2)}, "plane"),
        ({"translation": (0.1,)}, "translation"),
        ({"gap_A": -1.0}, "gap_A"),
        ({"in_plane_repeat": (0, 1)}, "in_plane_repeat"),
        ({"contact_ratio": 1.5}, "contact_ratio"),
        ({"min_distance_A": 2.5}, "min_distance_A"),  # above bulk Li–F 2.01 Å
        ({"oxidation_states": {"Li": 1, "F": -2}}, "oxidation_states"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, arg):
    args = {"structure": "LiF", "axis": (1, 1, 0), "sigma": 3, "plane": (1, -1, 2)}
    args.update(kwargs)
    with pytest.raises(ArgumentError) as err:
        build_gb(**args)
    assert err.value.name == arg
    assert isinstance(err.value, LilibError)


def test_rule_that_cannot_clear_contacts_names_the_pair():
    with pytest.raises(ArgumentError, match=r"atoms \d+ \((Li|F), grain [01]\) and \d+ .* Å apart"):
        build_gb("LiF", (0, 0, 1), 5, (3, 1, 0), max_removed_fraction=0.0)


def test_composition_that_cannot_be_neutral():
    lio = Atoms("LiO", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[3, 3, 3], pbc=True)
    with pytest.raises(ArgumentError, match="charge-neutral") as err:
        build_gb(lio, (0, 0, 1), 5, (3, 1, 0))
    assert err.value.name == "structure"
    ok = build_gb(lio, (0, 0, 1), 5, (0, 0, 1), "twist", oxidation_states={"Li": 2, "O": -2})
    assert ok.total_charge == 0.0


def test_non_crystalline_inputs():
    rng = np.random.default_rng(0)
    glass = Atoms("Li8F8", positions=rng.random((16, 3)) * 6.0, cell=[6, 6, 6], pbc=True)
    with pytest.raises(ArgumentError, match="triclinic") as err:
        enumerate_sigma(glass, (0, 0, 1), 10)
    assert err.value.name == "structure"
    molecule = Atoms("LiF", positions=[[0, 0, 0], [1.6, 0, 0]])
    with pytest.raises(ArgumentError, match="periodic"):
        build_gb(molecule, (0, 0, 1), 5, (3, 1, 0))
    with pytest.raises(UnknownStructureError):
        build_gb("LiFF", (0, 0, 1), 5, (3, 1, 0))
    with pytest.raises(ArgumentError) as err:
        enumerate_sigma("LiF", (0, 0, 1), 2)
    assert err.value.name == "max_sigma"


def test_scan_argument_errors():
    with pytest.raises(ArgumentError) as err:
        rigid_translation_scan("LiF", (0, 0, 1), 5, (3, 1, 0), translation=(0, 0))
    assert err.value.name == "translation"
    with pytest.raises(ArgumentError) as err:
        rigid_translation_scan("LiF", (0, 0, 1), 5, (3, 1, 0), grid=(0, 2))
    assert err.value.name == "grid"
