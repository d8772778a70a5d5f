/// Splits `0..<n` into contiguous ranges, one per worker: `Compute.threads` ranges when
/// `n · costPerItem` repays a dispatch, else one. Ops that reduce per-worker partial sums
/// (weight gradients) index their partial buffers by range number and add them in that order,
/// so results are bit-identical for a given thread count.
func workerRanges(_ n: Int, costPerItem: Int, minimumCost: Int = 200_000) -> [Range<Int>] {
    let workers = n * costPerItem < minimumCost ? 1 : Swift.max(1, Swift.min(Compute.threads, n))
    return (0..<workers).map { w in (n * w / workers)..<(n * (w + 1) / workers) }
}
