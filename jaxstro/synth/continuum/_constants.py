"""Physical constants (cgs) shared by the continuum-opacity sources (CODATA 2018)."""

from __future__ import annotations

import numpy as np

c_cgs = 2.99792458e10  # cm s^-1
h_cgs = 6.62607015e-27  # erg s
k_cgs = 1.380649e-16  # erg K^-1
k_eV = 8.617333262e-5  # eV K^-1
h_eV = 4.135667696e-15  # eV s
m_e = 9.1093837015e-28  # g
e_esu = 4.80320471e-10  # statC
eV_erg = 1.602176634e-12
Rydberg_eV = 13.605693122994  # infinite-mass Rydberg [eV]
RydbergH_eV = 13.598434005136  # hydrogen (reduced-mass) Rydberg [eV]
sigma_thomson = 6.6524587321e-25  # cm^2
Mb = 1e-18  # megabarn in cm^2

# Saha factor (2 pi m_e k T / h^2)^{3/2} = SAHA_CONST * T^{3/2}  [cm^-3]
SAHA_CONST = float((2 * np.pi * m_e * k_cgs / h_cgs**2) ** 1.5)
