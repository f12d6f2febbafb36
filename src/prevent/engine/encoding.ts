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
    for (let j = 0; j < dims; j++) {
      const v = rows.map((r) => r[j]!).sort((a, b) => a - b);
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

  encode(raw: readonly number[]): number[] {
    const out = [...raw];
    this.cuts.forEach((cs, j) => {
      const x = raw[j]!;
      for (const c of cs) out.push(x >= c ? 1 : 0);
    });
    return out;
  }
}
