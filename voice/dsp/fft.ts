// A complex FFT for any length: iterative radix-2 for powers of two, mixed radix (recursive
// decimation in time) when every prime factor is small (Whisper's n_fft 400 = 4·4·5·5), Bluestein's
// chirp-z otherwise (large primes). A plan precomputes twiddles once, because the log-mel front end
// runs the same length 3000 times per 30 s window.

export interface FftPlan {
  readonly n: number;
  /** In-place forward DFT: X[k] = sum x[j] e^{-2πijk/n}. */
  forward(re: Float64Array, im: Float64Array): void;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function radix2(n: number): FftPlan {
  const bits = Math.round(Math.log2(n));
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = -Math.sin((2 * Math.PI * i) / n);
  }
  return {
    n,
    forward(re, im) {
      for (let i = 0; i < n; i++) {
        const j = rev[i]!;
        if (j > i) {
          const tr = re[i]!, ti = im[i]!;
          re[i] = re[j]!; im[i] = im[j]!;
          re[j] = tr; im[j] = ti;
        }
      }
      for (let size = 2; size <= n; size *= 2) {
        const half = size / 2;
        const step = n / size;
        for (let start = 0; start < n; start += size) {
          for (let k = 0; k < half; k++) {
            const wr = cos[k * step]!, wi = sin[k * step]!;
            const a = start + k, b = a + half;
            const xr = re[b]! * wr - im[b]! * wi;
            const xi = re[b]! * wi + im[b]! * wr;
            re[b] = re[a]! - xr; im[b] = im[a]! - xi;
            re[a] = re[a]! + xr; im[a] = im[a]! + xi;
          }
        }
      }
    },
  };
}

/** Factors for the mixed-radix plan, 4s first; undefined when a prime factor is too large for it. */
function smallFactors(n: number): number[] | undefined {
  const f: number[] = [];
  let m = n;
  while (m % 4 === 0) { f.push(4); m /= 4; }
  for (let p = 2; p <= 31 && m > 1; p++) while (m % p === 0) { f.push(p); m /= p; }
  return m === 1 ? f : undefined;
}

function mixedRadix(n: number, factors: readonly number[]): FftPlan {
  const cos = new Float64Array(n), sin = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / n);
    sin[j] = -Math.sin((2 * Math.PI * j) / n);
  }
  const maxP = Math.max(...factors);
  const tr = new Float64Array(maxP), ti = new Float64Array(maxP);
  const outRe = new Float64Array(n), outIm = new Float64Array(n);
  // out[outOff + k], k < size, = DFT_size of in[inOff + j*stride]
  const rec = (re: Float64Array, im: Float64Array, inOff: number, stride: number, outOff: number, size: number, fi: number): void => {
    if (size === 1) {
      outRe[outOff] = re[inOff]!;
      outIm[outOff] = im[inOff]!;
      return;
    }
    const p = factors[fi]!, m = size / p;
    for (let r = 0; r < p; r++) rec(re, im, inOff + r * stride, stride * p, outOff + r * m, m, fi + 1);
    const tw = n / size, wp = n / p;
    for (let k = 0; k < m; k++) {
      for (let r = 0; r < p; r++) {
        const a = outOff + r * m + k, w = (r * k * tw) % n;
        const xr = outRe[a]!, xi = outIm[a]!;
        tr[r] = xr * cos[w]! - xi * sin[w]!;
        ti[r] = xr * sin[w]! + xi * cos[w]!;
      }
      for (let q = 0; q < p; q++) {
        let sr = 0, si = 0;
        for (let r = 0; r < p; r++) {
          const w = ((r * q) % p) * wp;
          sr += tr[r]! * cos[w]! - ti[r]! * sin[w]!;
          si += tr[r]! * sin[w]! + ti[r]! * cos[w]!;
        }
        outRe[outOff + q * m + k] = sr;
        outIm[outOff + q * m + k] = si;
      }
    }
  };
  return {
    n,
    forward(re, im) {
      rec(re, im, 0, 1, 0, n, 0);
      re.set(outRe);
      im.set(outIm);
    },
  };
}

function bluestein(n: number): FftPlan {
  let m = 1;
  while (m < 2 * n - 1) m *= 2;
  const inner = radix2(m);
  // chirp w[k] = e^{-iπk²/n}; k² mod 2n keeps the angle exact for large k.
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = (Math.PI * ((k * k) % (2 * n))) / n;
    wr[k] = Math.cos(a);
    wi[k] = -Math.sin(a);
  }
  // FFT of the conjugate chirp laid out circularly, computed once.
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    br[k] = wr[k]!; bi[k] = -wi[k]!;
    if (k > 0) { br[m - k] = wr[k]!; bi[m - k] = -wi[k]!; }
  }
  inner.forward(br, bi);
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  return {
    n,
    forward(re, im) {
      ar.fill(0); ai.fill(0);
      for (let k = 0; k < n; k++) {
        ar[k] = re[k]! * wr[k]! - im[k]! * wi[k]!;
        ai[k] = re[k]! * wi[k]! + im[k]! * wr[k]!;
      }
      inner.forward(ar, ai);
      for (let k = 0; k < m; k++) {
        const xr = ar[k]! * br[k]! - ai[k]! * bi[k]!;
        const xi = ar[k]! * bi[k]! + ai[k]! * br[k]!;
        // inverse via conjugation: ifft(X) = conj(fft(conj(X))) / m
        ar[k] = xr; ai[k] = -xi;
      }
      inner.forward(ar, ai);
      for (let k = 0; k < n; k++) {
        const cr = ar[k]! / m, ci = -ai[k]! / m;
        re[k] = cr * wr[k]! - ci * wi[k]!;
        im[k] = cr * wi[k]! + ci * wr[k]!;
      }
    },
  };
}

const plans = new Map<number, FftPlan>();

/** A cached plan for length n (n >= 1). */
export function fftPlan(n: number): FftPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`fft length must be a positive integer, got ${n}`);
  let p = plans.get(n);
  if (!p) {
    const f = smallFactors(n);
    p = n === 1 ? { n, forward() {} } : isPow2(n) ? radix2(n) : f ? mixedRadix(n, f) : bluestein(n);
    plans.set(n, p);
  }
  return p;
}

export interface RealFftPlan {
  readonly n: number;
  /** Bins 0..n/2 of the DFT of the real x (length n) into re/im (length n/2+1 or more). */
  forward(x: ArrayLike<number>, re: Float64Array, im: Float64Array): void;
}

/**
 * A real-input plan. For even n the signal is packed as n/2 complex points (even samples real, odd
 * imaginary), transformed at half length and split: about half the work of a complex FFT.
 */
export function realFftPlan(n: number): RealFftPlan {
  if (n % 2 !== 0 || n < 2) {
    const plan = fftPlan(n), re2 = new Float64Array(n), im2 = new Float64Array(n);
    return {
      n,
      forward(x, re, im) {
        for (let i = 0; i < n; i++) { re2[i] = x[i]!; im2[i] = 0; }
        plan.forward(re2, im2);
        for (let k = 0; k <= n >> 1; k++) { re[k] = re2[k]!; im[k] = im2[k]!; }
      },
    };
  }
  const h = n / 2, half = fftPlan(h);
  const zr = new Float64Array(h), zi = new Float64Array(h);
  const cos = new Float64Array(h + 1), sin = new Float64Array(h + 1);
  for (let k = 0; k <= h; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  return {
    n,
    forward(x, re, im) {
      for (let j = 0; j < h; j++) { zr[j] = x[2 * j]!; zi[j] = x[2 * j + 1]!; }
      half.forward(zr, zi);
      for (let k = 0; k <= h; k++) {
        const a = k % h, b = (h - k) % h;
        // E[k] = (Z[k] + conj Z[h-k]) / 2, O[k] = (Z[k] - conj Z[h-k]) / 2i, X[k] = E[k] + W^k O[k]
        const er = (zr[a]! + zr[b]!) / 2, ei = (zi[a]! - zi[b]!) / 2;
        const or = (zi[a]! + zi[b]!) / 2, oi = -(zr[a]! - zr[b]!) / 2;
        re[k] = er + or * cos[k]! - oi * sin[k]!;
        im[k] = ei + or * sin[k]! + oi * cos[k]!;
      }
    },
  };
}

/** Forward DFT of a real signal: the n/2+1 non-redundant bins as separate real and imaginary arrays. */
export function rfft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const bins = Math.floor(x.length / 2) + 1;
  const re = new Float64Array(bins), im = new Float64Array(bins);
  realFftPlan(x.length).forward(x, re, im);
  return { re, im };
}
