# Fits the float32 erfc polynomials of src/Backprop/Kernels/Elementwise/GaussianSingle.cs (run with Debian's /usr/bin/python3: mpmath, numpy).
# Prints the max relative error of each degree in float Horner, then the coefficients used (P degree 4, Q degree 8).
import mpmath as mp, numpy as np
mp.mp.dps = 40
def cheb_fit(f, lo, hi, n):
    # Chebyshev interpolation at n+1 nodes, returned as monomial coefficients in the original variable
    nodes = [mp.cos(mp.pi*(k+0.5)/(n+1)) for k in range(n+1)]
    xs = [ (hi-lo)/2*z + (hi+lo)/2 for z in nodes]
    ys = [f(x) for x in xs]
    # solve Vandermonde in mp for monomials in x
    A = mp.matrix([[x**j for j in range(n+1)] for x in xs])
    c = mp.lu_solve(A, mp.matrix(ys))
    return [c[j] for j in range(n+1)]
def horner32(c, t):
    acc = np.float32(c[-1])
    for k in range(len(c)-2, -1, -1):
        acc = np.float32(np.float32(acc*t) + np.float32(c[k]))
    return acc
invsqrtpi = 1/mp.sqrt(mp.pi)
# small branch: erf(a) = a P(a^2), u in [0, 0.25]
def Pf(u):
    a = mp.sqrt(u)
    return mp.erf(a)/a if u != 0 else 2/mp.sqrt(mp.pi)
for n in [3, 4]:
    P = cheb_fit(Pf, mp.mpf(0), mp.mpf(0.25), n)
    err = 0
    for a in np.linspace(1e-4, 0.5, 20001, dtype=np.float32):
        u = np.float32(a*a)
        v = np.float32(a*horner32([float(x) for x in P], u))
        ex = mp.erf(mp.mpf(float(a)))
        err = max(err, abs((v-ex)/ex))
    print('P', n, float(err))
def Qf(t):
    a = (4+3*t)/(1-t)
    r = 1/(a+3)
    return (mp.erfc(a)*mp.exp(a*a)/r - invsqrtpi)/r
for n in [7, 8, 9]:
    Q = cheb_fit(Qf, mp.mpf(-1), mp.mpf(0.9999999), n)
    err = 0
    for a in np.linspace(0.5, 10, 40001, dtype=np.float32):
        r = np.float32(1)/np.float32(a+3); t = np.float32(np.float32(a-4)*r)
        ecx = np.float32(np.float32(horner32([float(x) for x in Q], t)*r + np.float32(float(invsqrtpi)))*r)
        ex = mp.erfc(mp.mpf(float(a)))*mp.exp(mp.mpf(float(a))**2)
        err = max(err, abs((ecx-ex)/ex))
    print('Q', n, float(err))
print("P4", [float(x) for x in cheb_fit(Pf, mp.mpf(0), mp.mpf(0.25), 4)])
print("Q8", [float(x) for x in cheb_fit(Qf, mp.mpf(-1), mp.mpf(0.9999999), 8)])
