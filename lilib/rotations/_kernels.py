"""numba kernels of :mod:`lilib.rotations`: batched best-fit rotations, orientation states, hops.

Quaternions are scalar-first (w, x, y, z) unit quaternions throughout.

Best-fit rotation: Horn's quaternion form of the Kabsch problem (J. Opt. Soc. Am. A 4, 629,
1987) solved as in Theobald's QCP method (Acta Cryst. A 61, 478, 2005): the largest eigenvalue
of the traceless 4×4 key matrix by Newton iteration on its characteristic polynomial (started
at (G_ref + G_cur)/2, an upper bound), the eigenvector as the largest column of the adjugate of
(K − λI). No SVD, no branch on det: ~20× faster than a batched LAPACK eigh on 4×4 matrices.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _det3(a00, a01, a02, a10, a11, a12, a20, a21, a22):
    return (
        a00 * (a11 * a22 - a12 * a21)
        - a01 * (a10 * a22 - a12 * a20)
        + a02 * (a10 * a21 - a11 * a20)
    )


@njit(cache=True)
def _max_eigvec(k, lam0, out):
    """Eigenvector of the symmetric traceless 4×4 ``k`` for its largest eigenvalue; returns λ."""
    sxx = 0.0
    for i in range(4):
        for j in range(4):
            sxx += k[i, j] * k[i, j]
    c2 = -0.5 * sxx
    # tr(K³)
    tr3 = 0.0
    for i in range(4):
        for j in range(4):
            kij = k[i, j]
            for m in range(4):
                tr3 += kij * k[j, m] * k[m, i]
    c1 = -tr3 / 3.0
    c0 = (
        k[0, 0]
        * _det3(k[1, 1], k[1, 2], k[1, 3], k[2, 1], k[2, 2], k[2, 3], k[3, 1], k[3, 2], k[3, 3])
        - k[0, 1]
        * _det3(k[1, 0], k[1, 2], k[1, 3], k[2, 0], k[2, 2], k[2, 3], k[3, 0], k[3, 2], k[3, 3])
        + k[0, 2]
        * _det3(k[1, 0], k[1, 1], k[1, 3], k[2, 0], k[2, 1], k[2, 3], k[3, 0], k[3, 1], k[3, 3])
        - k[0, 3]
        * _det3(k[1, 0], k[1, 1], k[1, 2], k[2, 0], k[2, 1], k[2, 2], k[3, 0], k[3, 1], k[3, 2])
    )
    lam = lam0
    for _ in range(60):
        lam2 = lam * lam
        p = (lam2 + c2) * lam2 + c1 * lam + c0
        dp = (4.0 * lam2 + 2.0 * c2) * lam + c1
        if dp == 0.0:
            break
        step = p / dp
        lam -= step
        if abs(step) <= 1e-13 * (abs(lam) + 1e-300):
            break
    a = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            a[i, j] = k[i, j]
        a[i, i] -= lam
    # rows of the cofactor matrix (= columns of the adjugate, A symmetric); keep the largest
    best = -1.0
    idx = [1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2]
    for r in range(4):
        rr0, rr1, rr2 = idx[3 * r], idx[3 * r + 1], idx[3 * r + 2]
        v = np.empty(4)
        for c in range(4):
            c0_, c1_, c2_ = idx[3 * c], idx[3 * c + 1], idx[3 * c + 2]
            d = _det3(
                a[rr0, c0_], a[rr0, c1_], a[rr0, c2_],
                a[rr1, c0_], a[rr1, c1_], a[rr1, c2_],
                a[rr2, c0_], a[rr2, c1_], a[rr2, c2_],
            )  # fmt: skip
            v[c] = d if (r + c) % 2 == 0 else -d
        n2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]
        if n2 > best:
            best = n2
            for c in range(4):
                out[c] = v[c]
    scale = lam0 * lam0 * lam0 + 1e-300
    if not best > 1e-22 * scale * scale:
        # degenerate top eigenvalue (e.g. collinear ligands): fall back on LAPACK
        w, vecs = np.linalg.eigh(k)
        for c in range(4):
            out[c] = vecs[c, 3]
        return w[3]
    inv = 1.0 / math.sqrt(best)
    for c in range(4):
        out[c] *= inv
    return lam


@njit(cache=True)
def best_fit_quaternions(cur, ref, q_out, rmsd_out):
    """Rotation q with R(q)·ref_i ≈ cur_i for every frame and group (least squares, in place).

    cur: (n_frames, n_groups, n, 3) vectors; ref: (n_groups, n, 3); q_out: (n_frames,
    n_groups, 4) with w ≥ 0; rmsd_out: (n_frames, n_groups) residual RMSD after the fit.
    """
    n_frames, n_groups, n = cur.shape[0], cur.shape[1], cur.shape[2]
    k = np.empty((4, 4))
    q = np.empty(4)
    for g in range(n_groups):
        ga = 0.0
        for i in range(n):
            for c in range(3):
                ga += ref[g, i, c] * ref[g, i, c]
        for f in range(n_frames):
            sxx = sxy = sxz = syx = syy = syz = szx = szy = szz = 0.0
            gb = 0.0
            for i in range(n):
                ax, ay, az = ref[g, i, 0], ref[g, i, 1], ref[g, i, 2]
                bx, by, bz = cur[f, g, i, 0], cur[f, g, i, 1], cur[f, g, i, 2]
                gb += bx * bx + by * by + bz * bz
                sxx += ax * bx
                sxy += ax * by
                sxz += ax * bz
                syx += ay * bx
                syy += ay * by
                syz += ay * bz
                szx += az * bx
                szy += az * by
                szz += az * bz
            k[0, 0] = sxx + syy + szz
            k[0, 1] = k[1, 0] = syz - szy
            k[0, 2] = k[2, 0] = szx - sxz
            k[0, 3] = k[3, 0] = sxy - syx
            k[1, 1] = sxx - syy - szz
            k[1, 2] = k[2, 1] = sxy + syx
            k[1, 3] = k[3, 1] = szx + sxz
            k[2, 2] = -sxx + syy - szz
            k[2, 3] = k[3, 2] = syz + szy
            k[3, 3] = -sxx - syy + szz
            e0 = 0.5 * (ga + gb)
            lam = _max_eigvec(k, e0, q)
            sign = 1.0 if q[0] >= 0.0 else -1.0
            for c in range(4):
                q_out[f, g, c] = sign * q[c]
            rmsd_out[f, g] = math.sqrt(max(0.0, 2.0 * (e0 - lam) / n))


@njit(cache=True)
def nearest_states(q, sym, n_sym, state_out, cos_out):
    """Nearest symmetry-equivalent state of every orientation and |cos(ω/2)| to it (in place).

    q: (n_frames, n_groups, 4); sym: (n_groups, m_max, 4) state quaternions, n_sym[g] valid.
    """
    n_frames, n_groups = q.shape[0], q.shape[1]
    for g in range(n_groups):
        for f in range(n_frames):
            best = -1.0
            arg = 0
            for m in range(n_sym[g]):
                d = abs(
                    q[f, g, 0] * sym[g, m, 0]
                    + q[f, g, 1] * sym[g, m, 1]
                    + q[f, g, 2] * sym[g, m, 2]
                    + q[f, g, 3] * sym[g, m, 3]
                )
                if d > best:
                    best = d
                    arg = m
            state_out[f, g] = arg
            cos_out[f, g] = min(best, 1.0)


@njit(cache=True, inline="always")
def _absdot(q, f, g, sym, m):
    return abs(
        q[f, g, 0] * sym[g, m, 0]
        + q[f, g, 1] * sym[g, m, 1]
        + q[f, g, 2] * sym[g, m, 2]
        + q[f, g, 3] * sym[g, m, 3]
    )


@njit(cache=True)
def hysteresis_states(q, sym, nearest, cos_nearest, cos_in, cos_out, assigned, cos_assigned):
    """Orientation state with hysteresis, per group; returns events and failed excursions.

    A group is in state s until it has been farther than θ_out from s and then comes within θ_in
    of another state s' (cos_in = cos(θ_in/2), cos_out = cos(θ_out/2)). Before the first
    arrival within θ_in of any state the state is −1. Fills ``assigned`` (n_frames, n_groups)
    and the |cos(ω/2)| to it. Returns (events, excursions): events rows (group, frame of the
    last visit within θ_in of the old state, crossing frame, entry frame, old, new), crossing =
    first frame of the last run before entry in which the new state is nearer than the old;
    excursions rows (group, leave frame, return frame) for departures beyond θ_out that came
    back to the same state.
    """
    n_frames, n_groups = q.shape[0], q.shape[1]
    events = []
    excursions = []
    for g in range(n_groups):
        cur = -1
        left = False
        last_in = -1
        leave = -1
        for f in range(n_frames):
            near = nearest[f, g]
            cn = cos_nearest[f, g]
            if cur < 0:
                if cn >= cos_in:
                    cur = near
                    last_in = f
                assigned[f, g] = cur
                cos_assigned[f, g] = cn if cur >= 0 else np.nan
                continue
            ca = _absdot(q, f, g, sym, cur)
            if ca < cos_out and not left:
                left = True
                leave = f
            if cn >= cos_in:
                if near == cur:
                    if left:
                        excursions.append((g, leave, f))
                    left = False
                    last_in = f
                elif left:
                    cross = f
                    while cross - 1 > last_in and _absdot(q, cross - 1, g, sym, near) > _absdot(
                        q, cross - 1, g, sym, cur
                    ):
                        cross -= 1
                    events.append((g, last_in, cross, f, cur, near))
                    cur = near
                    ca = cn
                    left = False
                    last_in = f
            assigned[f, g] = cur
            cos_assigned[f, g] = ca
    ev = np.empty((len(events), 6), dtype=np.int64)
    for i in range(len(events)):
        for c in range(6):
            ev[i, c] = events[i][c]
    ex = np.empty((len(excursions), 3), dtype=np.int64)
    for i in range(len(excursions)):
        for c in range(3):
            ex[i, c] = excursions[i][c]
    return ev, ex


@njit(cache=True)
def detect_hops(s, threshold, settle_frames, settle_radius):
    """Hops of each ion from (smoothed, unwrapped) positions s (n_frames, n_ions, 3), Å.

    The residence centre is the running mean of the positions since the ion settled; an ion
    that goes farther than ``threshold`` from it is away; it has hopped once the last
    ``settle_frames`` positions lie within ``settle_radius`` of their mean and that mean is
    farther than ``threshold`` from the old centre (it has returned when it comes back within
    ``threshold``). Returns rows (ion, hop frame, leave frame, settle frame, old centre xyz, new
    centre xyz); the hop frame is the first frame of the last run before settling that is
    nearer the new centre than the old.
    """
    n_frames, n_ions = s.shape[0], s.shape[1]
    m = settle_frames
    out = []
    thr2 = threshold * threshold
    rad2 = settle_radius * settle_radius
    for i in range(n_ions):
        cx = cy = cz = 0.0
        n_c = 0
        start = 0
        # first centre: the first settled window (else the first frame)
        for f in range(m - 1, n_frames):
            mx = my = mz = 0.0
            for k in range(f - m + 1, f + 1):
                mx += s[k, i, 0]
                my += s[k, i, 1]
                mz += s[k, i, 2]
            mx /= m
            my /= m
            mz /= m
            ok = True
            for k in range(f - m + 1, f + 1):
                if (s[k, i, 0] - mx) ** 2 + (s[k, i, 1] - my) ** 2 + (s[k, i, 2] - mz) ** 2 > rad2:
                    ok = False
                    break
            if ok:
                cx, cy, cz = mx * m, my * m, mz * m
                n_c = m
                start = f + 1
                break
        if n_c == 0:
            cx, cy, cz = s[0, i, 0], s[0, i, 1], s[0, i, 2]
            n_c = 1
            start = 1
        away = False
        leave = -1
        last_in = start - 1
        for f in range(start, n_frames):
            ox, oy, oz = cx / n_c, cy / n_c, cz / n_c
            x, y, z = s[f, i, 0], s[f, i, 1], s[f, i, 2]
            d2 = (x - ox) ** 2 + (y - oy) ** 2 + (z - oz) ** 2
            if d2 <= thr2:
                away = False
                cx += x
                cy += y
                cz += z
                n_c += 1
                last_in = f
                continue
            if not away:
                away = True
                leave = f
            if f - leave + 1 < m:
                continue
            mx = my = mz = 0.0
            for k in range(f - m + 1, f + 1):
                mx += s[k, i, 0]
                my += s[k, i, 1]
                mz += s[k, i, 2]
            mx /= m
            my /= m
            mz /= m
            ok = True
            for k in range(f - m + 1, f + 1):
                if (s[k, i, 0] - mx) ** 2 + (s[k, i, 1] - my) ** 2 + (s[k, i, 2] - mz) ** 2 > rad2:
                    ok = False
                    break
            if not ok:
                continue
            if (mx - ox) ** 2 + (my - oy) ** 2 + (mz - oz) ** 2 <= thr2:
                continue
            hop = f
            while hop - 1 > last_in:
                k = hop - 1
                dn = (s[k, i, 0] - mx) ** 2 + (s[k, i, 1] - my) ** 2 + (s[k, i, 2] - mz) ** 2
                do = (s[k, i, 0] - ox) ** 2 + (s[k, i, 1] - oy) ** 2 + (s[k, i, 2] - oz) ** 2
                if dn < do:
                    hop -= 1
                else:
                    break
            row = (float(i), float(hop), float(leave), float(f), ox, oy, oz, mx, my, mz)
            out.append(row)
            cx, cy, cz = mx * m, my * m, mz * m
            n_c = m
            away = False
            last_in = f
    res = np.empty((len(out), 10))
    for r in range(len(out)):
        for c in range(10):
            res[r, c] = out[r][c]
    return res
