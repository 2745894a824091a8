"""Shipped rigid-ion parameter sets: sources recorded, numbers consistent with the source values,
LAMMPS commands, lookups and the errors bad requests raise (no LAMMPS needed)."""

from __future__ import annotations

import json
import math
import pickle

import pytest

from lilib.errors import (
    ArgumentError,
    FileFormatError,
    LilibError,
    UnknownNameError,
    UnsupportedElementError,
)
from lilib.potentials import (
    BuckinghamPair,
    BuckinghamPotential,
    MorsePair,
    UnknownPotentialError,
    available_potentials,
    load_potential,
    load_potential_file,
    potential_dir,
    potential_for,
)

NAMES = available_potentials()


def custom(**changes):
    kw = dict(
        name="test-buck",
        species=("Li", "O"),
        charges={"Li": 1.0, "O": -2.0},
        pairs={
            "Li-O": {"A_eV": 1000.0, "rho_A": 0.3, "C_eV_A6": 0.0},
            "O-O": {"A_eV": 20000.0, "rho_A": 0.15, "C_eV_A6": 30.0},
            "Li-Li": None,
        },
        cutoff_A=9.0,
        doi="10.0000/test",
        citation="test",
        table="Table 1",
    )
    kw.update(changes)
    return BuckinghamPotential(**kw)


def test_shipped_sets_present_and_sourced():
    assert {"LiF_TosiFumi1964", "LiCl_TosiFumi1964", "Li2O_Pedone2006"} <= set(NAMES)
    for name in NAMES:
        pot = load_potential(name)
        assert pot.name == name
        assert pot.doi.startswith("10.") and pot.citation and pot.table and pot.read_from
        assert pot.material, "each set names the material it was made for"
        for i, a in enumerate(pot.species):
            for b in pot.species[i:]:
                pot.pair(a, b)  # every pair has an entry


@pytest.mark.parametrize("name", [n for n in NAMES if "TosiFumi" in n])
def test_tosi_fumi_pairs_match_source_values(name):
    """A = c_ij b exp((σ_i + σ_j)/ρ), C, D converted from cgs; recomputed independently."""
    pot = load_potential(name)
    sv = pot.source_values
    ev_per_erg = 1e-7 / 1.602176634e-19
    b = sv["b_erg"] * ev_per_erg
    z = {s: (1 if q > 0 else -1) for s, q in pot.charges.items()}
    n = sv["outer_shell_electrons"]
    metal = next(s for s in pot.species if z[s] > 0)
    for (a, c), key in zip(
        [(metal, metal), (metal, pot.species[1]), (pot.species[1], pot.species[1])],
        ["MM", "MX", "XX"],
    ):
        p = pot.pair(a, c)
        beta = 1 + z[a] / n[a] + z[c] / n[c]
        a_ev = beta * b * math.exp((sv["sigma_A"][a] + sv["sigma_A"][c]) / sv["rho_A"])
        assert p.A_eV == pytest.approx(a_ev, rel=1e-8)
        assert p.rho_A == sv["rho_A"]
        assert p.C_eV_A6 == pytest.approx(sv["C_1e-60_erg_cm6"][key] * 1e-60 * ev_per_erg * 1e48)
        assert p.D_eV_A8 == pytest.approx(sv["D_1e-76_erg_cm8"][key] * 1e-76 * ev_per_erg * 1e64)


def test_lammps_commands_born_form():
    pot = load_potential("LiF_TosiFumi1964")
    cmds = pot.to_lammps_commands(["Li", "F"], kspace="ewald", kspace_accuracy=1e-6)
    assert cmds[:2] == ["set type 1 charge 1", "set type 2 charge -1"]
    assert cmds[2] == "pair_style born/coul/long 10"
    assert cmds[-1] == "kspace_style ewald 1e-06"
    li_f = next(c for c in cmds if c.startswith("pair_coeff 1 2"))
    a, rho, sigma, c6, d8 = (float(x) for x in li_f.split("#")[0].split()[3:])
    p = pot.pair("Li", "F")
    assert (a, rho, sigma, c6) == pytest.approx((p.A_eV, p.rho_A, 0.0, p.C_eV_A6))
    assert d8 == pytest.approx(-p.D_eV_A8)  # LAMMPS born has +D/r⁸
    # type order follows the caller
    swapped = pot.to_lammps_commands(["F", "Li"], set_charges=False)
    assert swapped[0] == "pair_style born/coul/long 10"
    assert "# F-F" in swapped[1] and "# Li-Li" in swapped[3]


def test_lammps_commands_buckingham_form_and_coulomb_only():
    pot = custom()
    assert pot.pair_style == "buck/coul/long"
    cmds = pot.to_lammps_commands(["Li", "O"])
    assert "pair_style buck/coul/long 9" in cmds
    assert any(c.startswith("pair_coeff 1 1 0.0 1.0 0.0") and "Coulomb only" in c for c in cmds)
    assert any(c.startswith("pair_coeff 1 2 1000 0.3 0") for c in cmds)
    assert cmds[-1] == "kspace_style pppm 1e-05"
    with pytest.raises(ArgumentError, match="kspace"):
        pot.to_lammps_commands(kspace="p3m")
    with pytest.raises(UnsupportedElementError, match="'F'"):
        pot.to_lammps_commands(["Li", "F"])


def test_pedone_set_matches_its_source_and_lammps_commands():
    pot = load_potential("Li2O_Pedone2006")
    assert pot.pair_style == "pedone + coul/long" and pot.charges == {"Li": 0.6, "O": -1.2}
    for s in ("Li", "O"):  # PMMCS lists each cation's X–O Morse term under the cation
        d0, alpha, r0 = pot.source_values[s]["morse_D0_alpha_r0"]
        p = pot.pair(s, "O")
        assert isinstance(p, MorsePair)
        assert (p.D0_eV, p.alpha_1_A, p.r0_A, p.B_eV_A12) == (
            d0, alpha, r0, pot.source_values[s]["repulsion"]
        )  # fmt: skip
    assert pot.pair("Li", "Li") is None
    cmds = pot.to_lammps_commands(["O", "Li"], set_charges=False)
    assert cmds[0] == "pair_style hybrid/overlay pedone 10 coul/long 10"
    assert cmds[1] == "pair_coeff * * coul/long"
    assert cmds[2].startswith("pair_coeff 1 1 pedone 0.042395 1.379316 3.618701 22")
    assert cmds[3].startswith("pair_coeff 1 2 pedone 0.001114 3.429506 2.68136 1")
    assert len(cmds) == 5, "Li-Li is Coulomb only: no pedone line"
    assert json.loads(json.dumps(pot.to_dict()))["pairs"]["Li-O"]["r0_A"] == 2.68136


def test_morse_pair_energy_and_errors():
    p = MorsePair(0.04, 1.4, 3.6, 22.0)
    r = 3.0
    x = math.exp(-1.4 * (r - 3.6))
    assert p.energy_eV(r) == pytest.approx(0.04 * (x * x - 2 * x) + 22.0 / r**12)
    assert MorsePair(0.04, 1.4, 3.6, 0.0).energy_eV(3.6) == pytest.approx(-0.04)
    with pytest.raises(ArgumentError, match="alpha"):
        MorsePair(0.04, 0.0, 3.6, 1.0)
    with pytest.raises(ArgumentError, match="mixes"):
        custom(pairs={"Li-O": {"D0_eV": 0.1, "alpha_1_A": 2.0, "r0_A": 2.0, "B_eV_A12": 1.0},
                      "O-O": {"A_eV": 1.0, "rho_A": 0.3, "C_eV_A6": 0.0}, "Li-Li": None})  # fmt: skip
    with pytest.raises(ArgumentError, match="Morse"):
        custom(pairs={"Li-O": {"D0_eV": 0.1, "alpha_1_A": 2.0}, "O-O": None, "Li-Li": None})
    with pytest.raises(ArgumentError, match="unknown keys"):
        custom(pairs={"Li-O": {"D0_eV": 0.1, "alpha_1_A": 2.0, "r0_A": 2.0, "B_eV_A12": 1.0,
                               "extra": 1}, "O-O": None, "Li-Li": None})  # fmt: skip


def test_pair_energy():
    p = BuckinghamPair(1000.0, 0.3, 10.0, 2.0)
    r = 2.0
    assert p.energy_eV(r) == pytest.approx(1000 * math.exp(-r / 0.3) - 10 / r**6 - 2 / r**8)


def test_unknown_name_suggests():
    with pytest.raises(UnknownPotentialError) as err:
        load_potential("LiF_TosiFumi")
    assert isinstance(err.value, (UnknownNameError, LilibError, KeyError))
    assert "LiF_TosiFumi1964" in str(err.value)
    assert load_potential("lif_tosifumi1964").name == "LiF_TosiFumi1964"  # case-insensitive


def test_potential_for_picks_and_refuses():
    assert potential_for(["Li", "F", "F", "Li"]).name == "LiF_TosiFumi1964"
    assert potential_for(["Cl", "Li"]).name == "LiCl_TosiFumi1964"
    assert potential_for(["O", "Li", "Li"]).name == "Li2O_Pedone2006"
    with pytest.raises(UnsupportedElementError) as err:
        potential_for(["Li", "S"])
    assert err.value.element == "S" and "LiF_TosiFumi1964" in str(err.value)
    with pytest.raises(UnsupportedElementError) as err:
        potential_for(["Li", "F", "Cl"])  # no single shipped set has both halides
    assert err.value.element in {"F", "Cl"}
    with pytest.raises(ArgumentError):
        potential_for([])


def test_missing_pair_and_bad_values_named():
    with pytest.raises(ArgumentError, match="pair O-O"):
        custom(pairs={"Li-O": {"A_eV": 1.0, "rho_A": 0.3, "C_eV_A6": 0.0}, "Li-Li": None})
    with pytest.raises(ArgumentError, match="Li-F"):
        custom(pairs={"Li-F": {"A_eV": 1.0, "rho_A": 0.3, "C_eV_A6": 0.0}})
    with pytest.raises(ArgumentError, match="charge"):
        custom(charges={"Li": 1.0})
    with pytest.raises(ArgumentError, match="rho_A"):
        BuckinghamPair(1.0, 0.0, 0.0)
    with pytest.raises(ArgumentError, match="source"):
        custom(doi="")
    pot = load_potential("LiF_TosiFumi1964")
    with pytest.raises(UnsupportedElementError, match="'Cl'"):
        pot.check(["Li", "F", "Cl"])
    assert pot.check(["F", "Li", "F"]) == ["Li", "F"]
    assert pot.net_charge(["Li", "F", "F"]) == -1.0


def test_frozen_and_picklable():
    pot = load_potential("LiF_TosiFumi1964")
    with pytest.raises(TypeError):
        pot.charges["Li"] = 2.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        pot.cutoff_A = 5.0  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(pot))
    assert again == pot and again.to_dict() == pot.to_dict()
    assert hash(again) == hash(pot)


def test_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FileFormatError, match="JSON"):
        load_potential_file(bad)
    data = json.loads((potential_dir() / "LiF_TosiFumi1964.json").read_text())
    del data["pairs"]["F-F"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(data))
    with pytest.raises(FileFormatError, match="F-F"):
        load_potential_file(partial)
    data.pop("doi")
    partial.write_text(json.dumps(data))
    with pytest.raises(FileFormatError, match="doi"):
        load_potential_file(partial)
    roundtrip = tmp_path / "rt.json"
    roundtrip.write_text(json.dumps(load_potential("LiCl_TosiFumi1964").to_dict()))
    assert load_potential_file(roundtrip).pairs == load_potential("LiCl_TosiFumi1964").pairs
