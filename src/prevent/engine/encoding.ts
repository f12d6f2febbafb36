// Lets a linear model bend: each continuous feature is kept as is and also encoded as a few
// "value > cut" indicators, with the cuts at quantiles of the training data (so they are learned
// from the tenant's history, not chosen by hand). The regression then fits a monotone-or-not
// step curve per feature on top of the straight line, as Carvalho & Cohen's binarisation does.

/** Raw feature vector → raw values followed by the threshold indicators. */
export class ThresholdEncoder {
  private constructor(readonly cuts: readonly (readonly number[])[]) {}

  /** Cuts at the `bins` − 1 inner quantiles of each feature that takes more than two values. */
  static fit(rows: readonly (readonly number[])[], dims: number, bins = 6): ThresholdEncoder {
    const cuts: number[][] = [];
    // Quantiles of an even sample are as good as of all rows, and much cheaper on big tenants.
    const step = Math.max(1, Math.floor(rows.length / 20_000));
    const sample = rows.filter((_, i) => i % step === 0);
    for (let j = 0; j < dims; j++) {
      const v = Float64Array.from(sample, (r) => r[j]!).sort();
      const distinct = new Set(v);
      if (distinct.size <= 2) {
        cuts.push([]);
        continue;
      }
      const c = new Set<number>();
      for (let k = 1; k < bins; k++) {
        const q = v[Math.floor((k * v.length) / bins)]!;
        if (q > v[0]! && q <= v[v.length - 1]!) c.add(q);
      }
      // A cut at the minimum separates "exactly the minimum" (often 0: never, none) from the rest.
      cuts.push([...c].sort((a, b) => a - b));
    }
    return new ThresholdEncoder(cuts);
  }

  /** An encoder that adds nothing (before the first fit). */
  static identity(dims: number): ThresholdEncoder {
    return new ThresholdEncoder(Array.from({ length: dims }, () => []));
  }

  get dims(): number {
    return this.cuts.reduce((n, c) => n + c.length, this.cuts.length);
  }

  /** Writes the encoding of `raw` into `out` at `offset` (out must have room for `dims` values). */
  encodeInto(raw: readonly number[], out: Float64Array, offset = 0): void {
    let k = offset;
    for (let j = 0; j < raw.length; j++) out[k++] = raw[j]!;
    for (let j = 0; j < this.cuts.length; j++) {
      const x = raw[j]!;
      for (const c of this.cuts[j]!) out[k++] = x >= c ? 1 : 0;
    }
  }
}
