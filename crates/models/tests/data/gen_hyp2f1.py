"""Reference values of ln|2F1(a, b; c; z)| for the tests of `regulars_models::special`.

Run once with mpmath (`pip install mpmath`): python3 gen_hyp2f1.py > hyp2f1.csv
Values are computed at 40 significant digits and written with 17, so the file is exact to
f64 precision. The cases cover a random spread of the plane, the arguments BG/NBD, MBG/NBD
and Pareto/NBD evaluate (large a, b, c from customers with many purchases, z near 1 for
long horizons), and a hard region: parameters up to 5e4, z up to 0.9999, z down to -20.
"""
import random
import mpmath

mpmath.mp.dps = 40
rng = random.Random(20050101)
cases = []


def add(kind, a, b, c, z):
    cases.append((kind, float(a), float(b), float(c), float(z)))


# A random spread: log-uniform parameters, z across (-1, 1).
for _ in range(160):
    a = 10 ** rng.uniform(-1.5, 2.5)
    b = 10 ** rng.uniform(-1.5, 2.5)
    c = 10 ** rng.uniform(-1.0, 2.7)
    z = rng.uniform(-0.95, 0.95)
    add("spread", a, b, c, z)

# BG/NBD and MBG/NBD: conditional expectation and unconditional E[X(t)].
for _ in range(140):
    r = 10 ** rng.uniform(-1, 0.5)
    alpha = 10 ** rng.uniform(0, 2)
    a = 10 ** rng.uniform(-0.6, 0.6)
    b = 10 ** rng.uniform(-0.5, 1.2)
    x = rng.choice([0, 1, 2, 3, 5, 8, 13, 30, 60, 120, 250])
    T = rng.uniform(1, 700)
    t = 10 ** rng.uniform(0, 3.6)
    c = a + b + x - 1
    if abs(c - round(c)) > 1e-6 or c > 0:
        add("bgnbd_conditional", r + x, b + x, c, t / (alpha + T + t))
    add("mbgnbd_conditional", r + x, b + x + 1, a + b + x, t / (alpha + T + t))
    if abs(a + b - 1 - round(a + b - 1)) > 1e-6 or a + b - 1 > 0:
        add("bgnbd_unconditional", r, b, a + b - 1, t / (alpha + t))

# Pareto/NBD likelihood and P(X(t) = x).
for _ in range(120):
    r = 10 ** rng.uniform(-1, 0.5)
    s = 10 ** rng.uniform(-1, 0.5)
    alpha = 10 ** rng.uniform(0, 2)
    beta = 10 ** rng.uniform(0, 2.5)
    x = rng.choice([0, 1, 2, 4, 9, 20, 50, 150])
    tx = rng.uniform(0, 1) * 300
    T = tx + rng.uniform(0, 400)
    if alpha >= beta:
        add("pnbd_likelihood", r + s + x, s + 1, r + s + x + 1, (alpha - beta) / (alpha + tx))
        add("pnbd_likelihood", r + s + x, s + 1, r + s + x + 1, (alpha - beta) / (alpha + T))
    else:
        add("pnbd_likelihood", r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + tx))
        add("pnbd_likelihood", r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + T))

# The hard region: huge parameters, z near 1, z far below 0.
for _ in range(120):
    a = 10 ** rng.uniform(2, 4.7)
    b = 10 ** rng.uniform(-1, 4.7)
    c = rng.choice([a + b + rng.uniform(0.1, 3), a + b - rng.uniform(0.1, 3), a + rng.uniform(1, 10),
                    max(b, a) * rng.uniform(0.5, 2), 10 ** rng.uniform(0, 4.7)])
    z = rng.choice([0.99, 0.999, 0.9999, 1 - 10 ** rng.uniform(-4, -1), -rng.uniform(0.5, 20)])
    add("hard", a, b, c, z)

print("kind,a,b,c,z,ln_abs,sign")
for kind, a, b, c, z in cases:
    value = mpmath.hyp2f1(mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(c), mpmath.mpf(z),
                          maxprec=200000, maxterms=10**7)
    if value == 0:
        continue
    sign = 1 if value > 0 else -1
    print(f"{kind},{a!r},{b!r},{c!r},{z!r},{mpmath.nstr(mpmath.log(abs(value)), 17)},{sign}")
