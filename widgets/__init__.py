"""Interactive explorers for lilib results (ipywidgets + nglview).

Widgets display what :mod:`lilib` computes; they never compute physics themselves.
"""

from __future__ import annotations

from widgets.charge_explorer import ChargeExplorer
from widgets.gb_explorer import GBExplorer
from widgets.phonon_explorer import PhononExplorer
from widgets.rotation_explorer import RotationExplorer
from widgets.structure_view import StructureView, show_structure
from widgets.transport_dashboard import TransportDashboard

__all__ = [
    "ChargeExplorer",
    "GBExplorer",
    "PhononExplorer",
    "RotationExplorer",
    "StructureView",
    "TransportDashboard",
    "show_structure",
]
