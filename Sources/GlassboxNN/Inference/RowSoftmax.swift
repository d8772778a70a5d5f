import CKernels

/// Class probabilities from logits in place, for explainers that turn every model batch into
/// probabilities: the arithmetic of ``softmax(_:axis:)`` over rows (shift by the row maximum,
/// `exp`, divide by the sum) and of ``sigmoid(_:)`` for a single logit, without allocating.
public enum RowSoftmax {
    /// Replaces each of the `rows` rows of `width` logits at `values` by its softmax (the
    /// sigmoid when `width == 1`). Cost: one vectorised pass (`gb_softmax_rows`).
    public static func apply(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard rows > 0, width > 0 else { return }
        if width == 1 {
            gb_sigmoid(values, values, rows)
            return
        }
        gb_softmax_rows(values, rows, width)
    }
}
