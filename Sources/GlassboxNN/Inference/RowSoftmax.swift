import CKernels

/// Class probabilities from logits in place, for explainers that turn every model batch into
/// probabilities: the arithmetic of ``softmax(_:axis:)`` over rows (shift by the row maximum,
/// `exp`, divide by the sum) and of ``sigmoid(_:)`` for a single logit, without allocating.
public enum RowSoftmax {
    /// Replaces each of the `rows` rows of `width` logits at `values` by its softmax (the
    /// sigmoid when `width == 1`). Cost: one vectorised `exp` over the batch plus two passes.
    public static func apply(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard rows > 0, width > 0 else { return }
        if width == 1 {
            gb_sigmoid(values, values, rows)
            return
        }
        if width == 2 {
            // The common binary case, unrolled (same arithmetic as the general loops below).
            for r in 0..<rows {
                let row = values + 2 * r, m = Swift.max(row[0], row[1])
                row[0] -= m
                row[1] -= m
            }
            gb_exp(values, values, 2 * rows)
            for r in 0..<rows {
                let row = values + 2 * r, sum = row[0] + row[1]
                row[0] /= sum
                row[1] /= sum
            }
            return
        }
        for r in 0..<rows {
            let row = values + r * width
            var m = row[0]
            for j in 1..<width { m = Swift.max(m, row[j]) }
            for j in 0..<width { row[j] -= m }
        }
        // One exp over the whole batch: per-row calls cost more than the model for narrow rows.
        gb_exp(values, values, rows * width)
        for r in 0..<rows {
            let row = values + r * width
            var sum: Float = 0
            for j in 0..<width { sum += row[j] }
            for j in 0..<width { row[j] /= sum }
        }
    }
}
