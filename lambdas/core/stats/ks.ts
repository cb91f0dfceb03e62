import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, with the p-value scipy's `ks_2samp`
 * gives with its default method: the exact distribution when both samples have at most
 * 10,000 values, otherwise the distribution of the one-sample statistic at the effective
 * size (`kstwo.sf(d, round(n·m/(n+m)))`). The algorithms are those scipy cites: lattice
 * paths (Hodges 1958) for the exact test, Simard & L'Ecuyer (2011) for `kstwo`.
 */

/** scipy switches from the exact to the asymptotic method above this sample size. */
export const KS_EXACT_MAX_N = 10_000;

/** A test's statistic and p-value (the shape of Lakehouse Monitoring's `ks_test` and `chi_squared_test`). */
export interface TestResult {
  readonly statistic: number;
  readonly pvalue: number;
}

/** The statistic of two sorted samples: the largest distance between their empirical CDFs. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(a[i] as number, b[j] as number);
    while (i < n && (a[i] as number) <= x) i++;
    while (j < m && (b[j] as number) <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  // Past the end of one sample the other's CDF only rises towards 1, so the distance shrinks.
  return d;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D_{n,n} ≥ h/n): the share of lattice paths leaving the band |x − y| < h. */
function probOutsideSquare(n: number, h: number): number {
  // Horner-like evaluation of 2·Σ(−1)^(k−1)·C(2n, n−kh)/C(2n, n), free of cancellation.
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * P(D_{m,n} ≥ h/lcm): the share of monotone lattice paths from (0,0) to (m,n) that touch a
 * point with |x·n/g − y·m/g| ≥ h. Shares (not counts) are carried, so nothing overflows:
 * share(x,y) = share(x−1,y)·x/(x+y) + share(x,y−1)·y/(x+y), and 1 outside the band.
 * Only the band is computed: about 2·D·n cells per column instead of n, which keeps the
 * exact test cheap near the null, where the p-value matters.
 */
function probOutsideLattice(m: number, n: number, g: number, h: number): number {
  const mg = m / g;
  const ng = n / g;
  // Inside the band at column x: yLo(x) ≤ y ≤ yHi(x), both non-decreasing in x.
  const yLo = (x: number) => Math.max(0, Math.floor((x * ng - h) / mg) + 1);
  const yHi = (x: number) => Math.min(n, Math.ceil((x * ng + h) / mg) - 1);
  // Entries above a column's band keep 1 (outside since x = 0); below it they are read as 1.
  const col = new Float64Array(n + 1).fill(1);
  col[0] = 0;
  for (let y = 1; y <= yHi(0); y++) col[y] = 0;
  for (let x = 1; x <= m; x++) {
    const lo = yLo(x);
    const hi = yHi(x);
    if (hi < lo) return 1;
    let below = lo === 0 ? 0 : 1;
    for (let y = lo; y <= hi; y++) {
      const v = y === 0 ? (col[0] as number) : ((col[y] as number) * x + below * y) / (x + y);
      col[y] = v;
      below = v;
    }
  }
  return col[n] as number;
}

/** log(n!/nⁿ) by Stirling's series, with n·log(n) removed up front. */
function logFactorialOverPower(n: number): number {
  const c = [-0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417, -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333];
  const rn = 1 / n;
  const r2 = rn / n;
  let poly = 0;
  for (const k of c) poly = poly * r2 + k;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/** P(D⁺ₙ ≥ d), the one-sided statistic (Birnbaum & Tingey 1951), summed in logs. */
export function smirnovSf(n: number, d: number): number {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const last = Math.floor(n * (1 - d));
  const lnN = gammaln(n + 1);
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const a = d + v / n;
    const b = 1 - d - v / n;
    if (b <= 0 && n - v > 0) continue;
    const logTerm = lnN - gammaln(v + 1) - gammaln(n - v + 1) + Math.log(d) + (v - 1) * Math.log(a) + (n - v === 0 ? 0 : (n - v) * Math.log(b));
    sum += Math.exp(logTerm);
  }
  return Math.min(1, Math.max(0, sum));
}

const E128 = 128;
const P128 = 2 ** 128;

/** P(Dₙ ≤ d) by the Durbin matrix (Marsaglia, Tsang & Wang 2003): exact, for small n·d. */
function kolmogorovDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const H = Array.from({ length: m }, () => new Float64Array(m));
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) (H[r] as Float64Array)[i] = w[r - i + 1] as number;
  for (let r = 0; r < m; r++) (H[r] as Float64Array)[0] = v[r] as number;
  for (let c = 0; c < m; c++) (H[m - 1] as Float64Array)[c] = v[m - 1 - c] as number;
  const mul = (A: Float64Array[], B: Float64Array[]) => {
    const C = Array.from({ length: m }, () => new Float64Array(m));
    for (let i = 0; i < m; i++) {
      const Ai = A[i] as Float64Array;
      const Ci = C[i] as Float64Array;
      for (let l = 0; l < m; l++) {
        const a = Ai[l] as number;
        if (a === 0) continue;
        const Bl = B[l] as Float64Array;
        for (let j = 0; j < m; j++) Ci[j] = (Ci[j] as number) + a * (Bl[j] as number);
      }
    }
    return C;
  };
  let power: Float64Array[] = Array.from({ length: m }, (_, i) => {
    const row = new Float64Array(m);
    row[i] = 1;
    return row;
  });
  let base = H;
  let exponent = 0;
  let baseExponent = 0;
  for (let nn = n; nn > 0; nn = Math.floor(nn / 2)) {
    if (nn % 2) {
      power = mul(power, base);
      exponent += baseExponent;
    }
    base = mul(base, base);
    baseExponent *= 2;
    if (Math.abs((base[k - 1] as Float64Array)[k - 1] as number) > P128) {
      for (const row of base) for (let j = 0; j < m; j++) row[j] = (row[j] as number) / P128;
      baseExponent += E128;
    }
  }
  let p = (power[k - 1] as Float64Array)[k - 1] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / P128) {
      p *= P128;
      exponent -= E128;
    }
  }
  return exponent !== 0 ? p * 2 ** exponent : p;
}

/** P(Dₙ ≤ x) by the Pelz–Good asymptotic series, for large n. */
function kolmogorovPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const pi2 = Math.PI ** 2;
  const pi4 = pi2 ** 2;
  const pi6 = pi2 ** 3;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = pi2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * pi2) / 4;
  const k2c = (pi4 * (1 - 2 * z2)) / 16;
  const k3d = (pi6 * (5 - 30 * z2)) / 64;
  const k3c = (pi4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (pi2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = (K[i] as number) * qp + (coeffs[i] as number);
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI);
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = ((K[i] as number) * q * sqrt2pi) / (div[i] as number);
  q = Math.exp(-pi2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const qp = q ** (k * k);
    k2extra += k * k * qp;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k * k * qp;
  }
  K[2] = (K[2] as number) + (k2extra * pi2 * sqrt2pi) / (-36 * z3);
  K[3] = (K[3] as number) + (k3extra * pi2 * sqrt2pi) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (K[i] as number) / n ** (i / 2);
  return sum;
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

/** P(Dₙ ≥ x) for the two-sided one-sample statistic (scipy's `kstwo.sf`). */
export function kstwoSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const logProb = n <= 140 ? Array.from({ length: n }, (_, i) => Math.log(((i + 1) / n) * (2 * t - 1))).reduce((a, b) => a + b, 0) : logFactorialOverPower(n) + n * Math.log(2 * t - 1);
    return clip(1 - Math.exp(logProb));
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    // scipy takes Pomeranz's recursion up to n·x² = 4; the Durbin matrix is exact as well.
    if (nx2 <= 4) return clip(1 - kolmogorovDurbin(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  if (nx2 >= 18) return 0;
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovDurbin(n, x) : kolmogorovPelzGood(n, x);
  return clip(1 - cdf);
}

/** Which distribution gave the p-value. */
export type KsMethod = 'exact' | 'asymp';

/**
 * The two-sided two-sample test of sorted samples `a` and `b` (NaN removed), as
 * `scipy.stats.ks_2samp(a, b)`.
 */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): TestResult & { readonly method: KsMethod } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('the KS test needs two non-empty samples');
  let d = ksStatistic(a, b);
  const g = gcd(n1, n2);
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pvalue: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideLattice(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pvalue: p, method: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pvalue: kstwoSf(Math.round(en), d), method: 'asymp' };
}
