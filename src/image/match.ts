export interface Match {
  /** Index in the first set. */
  a: number;
  /** Index of its nearest neighbour in the second set. */
  b: number;
  distance: number;
  /** Nearest over second-nearest distance; small means distinctive. */
  ratio: number;
}

/**
 * Nearest-neighbour matching with Lowe's ratio test (2004, section 7.1): a descriptor of the
 * first set is matched to its nearest neighbour in the second only when that is clearly
 * nearer than the second-nearest (distance ratio below `ratio`, 0.8 in the paper), which
 * drops most false matches of repetitive or featureless structure. Brute force, Euclidean.
 */
export function matchDescriptors(first: ArrayLike<number>[], second: ArrayLike<number>[], ratio = 0.8): Match[] {
  const matches: Match[] = [];
  if (second.length < 2) return matches;
  first.forEach((p, a) => {
    let best = Infinity,
      secondBest = Infinity,
      bestIndex = -1;
    second.forEach((q, b) => {
      let d = 0;
      for (let k = 0; k < p.length && d < secondBest; k++) {
        const t = p[k] - q[k];
        d += t * t;
      }
      if (d < best) {
        secondBest = best;
        best = d;
        bestIndex = b;
      } else if (d < secondBest) secondBest = d;
    });
    const r = Math.sqrt(best / secondBest);
    if (r < ratio) matches.push({ a, b: bestIndex, distance: Math.sqrt(best), ratio: r });
  });
  return matches;
}
