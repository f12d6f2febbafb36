// Logistic regression fitted by Newton's method (iteratively reweighted least squares), with an
// L2 penalty that pulls the weights towards a prior rather than towards zero: with little
// history the model stays close to the documented prior, with a lot the data decides.

/** Training rows for {@link fitLogistic}: `x` is row-major, `dims` values per row. */
export interface TrainingSet {
  dims: number;
  x: Float64Array;
  y: Uint8Array;
}

/** Numerically safe logistic function. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Weights maximising log-likelihood − (lambda/2)·|w − prior|². */
export function fitLogistic(data: TrainingSet, prior: readonly number[], lambda = 1, iterations = 25): number[] {
  const d = data.dims;
  const n = data.y.length;
  const w = [...prior];
  for (let it = 0; it < iterations; it++) {
    const g = new Float64Array(d);
    const h = new Float64Array(d * d);
    for (let j = 0; j < d; j++) {
      g[j] = lambda * (w[j]! - prior[j]!);
      h[j * d + j] = lambda;
    }
    const nz = new Int32Array(d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let z = 0;
      let m = 0;
      for (let j = 0; j < d; j++) {
        const xj = data.x[o + j]!;
        if (xj === 0) continue;
        z += w[j]! * xj;
        nz[m++] = j;
      }
      const p = sigmoid(z);
      const r = p - data.y[i]!;
      const q = Math.max(p * (1 - p), 1e-9);
      // Rows are sparse (indicator features), so only non-zero pairs are visited.
      for (let a = 0; a < m; a++) {
        const j = nz[a]!;
        const xj = data.x[o + j]!;
        g[j]! += r * xj;
        const qx = q * xj;
        for (let b = a; b < m; b++) {
          const k = nz[b]!;
          h[j * d + k]! += qx * data.x[o + k]!;
        }
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) h[j * d + k] = h[k * d + j]!;
    const step = solve(h, g, d);
    // Damped Newton: halve the step until the objective improves (plain Newton can overshoot).
    const before = objective(data, w, prior, lambda);
    let t = 1;
    let next = w;
    for (let k = 0; k < 30; k++, t /= 2) {
      next = w.map((v, j) => v - t * step[j]!);
      if (objective(data, next, prior, lambda) <= before) break;
    }
    let size = 0;
    for (let j = 0; j < d; j++) size = Math.max(size, Math.abs(next[j]! - w[j]!));
    w.splice(0, d, ...next);
    if (size < 1e-6) break;
  }
  return w;
}

/** Negative penalised log-likelihood. */
function objective(data: TrainingSet, w: readonly number[], prior: readonly number[], lambda: number): number {
  const d = data.dims;
  let f = 0;
  for (let j = 0; j < d; j++) f += (lambda / 2) * (w[j]! - prior[j]!) ** 2;
  for (let i = 0; i < data.y.length; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += w[j]! * data.x[i * d + j]!;
    // log(1 + e^z) − y·z, computed without overflow
    f += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - data.y[i]! * z;
  }
  return f;
}

/** Solves A·x = b by Gaussian elimination with partial pivoting (A is d×d, positive definite here). */
function solve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]!) > Math.abs(m[p * d + c]!)) p = r;
    if (p !== c) {
      for (let k = 0; k < d; k++) [m[c * d + k], m[p * d + k]] = [m[p * d + k]!, m[c * d + k]!];
      [x[c], x[p]] = [x[p]!, x[c]!];
    }
    const piv = m[c * d + c]!;
    for (let r = c + 1; r < d; r++) {
      const f = m[r * d + c]! / piv;
      if (f === 0) continue;
      for (let k = c; k < d; k++) m[r * d + k]! -= f * m[c * d + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = d - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let k = c + 1; k < d; k++) s -= m[c * d + k]! * x[k]!;
    x[c] = s / m[c * d + c]!;
  }
  return x;
}
