/// Documented caps on sizes that come from outside — command-line flags, spec attributes, image
/// and label headers — checked with overflow-safe arithmetic before anything is allocated, so a
/// typo or a hostile file yields a one-line error instead of an 8 GB allocation, an integer
/// overflow trap or a run of hours. Sizes read from a file are also bounded by that file's own
/// size where they describe its contents (``ModelFile``, ``NPY``, ``IDX``).
public enum Limits {
    /// Float32 values one buffer sized by a user's number may hold: 2^28 (1 GiB).
    public static let maximumValues = 1 << 28
    /// Largest repeat/sample/step/iteration count a command-line flag accepts.
    public static let maximumRepetitions = 1_000_000
    /// Widest hidden layer `train --hidden` builds.
    public static let maximumWidth = 1 << 16

    /// The product of `factors` (all ≥ 0), or nil when it overflows `Int`.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (p, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// The product of `factors`, refused when it overflows or exceeds `limit` values; `what`
    /// names the buffer ("RISE masks [masks, H, W]") in the error.
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` naming `what`, the factors and the limit.
    @discardableResult
    public static func checkValues(_ factors: [Int], limit: Int = maximumValues, _ what: @autoclosure () -> String) throws -> Int {
        guard let total = product(factors), total <= limit else {
            let shown = factors.map(String.init).joined(separator: " × ")
            throw GlassboxError.invalidArgument("\(what()): \(shown) values is more than the limit of \(limit) values")
        }
        return total
    }

    /// Refuses a count outside `1...maximum`; `option` names it ("--repeats").
    public static func checkCount(_ value: Int, option: String, maximum: Int = maximumRepetitions) throws {
        guard (1...maximum).contains(value) else {
            throw GlassboxError.invalidArgument("\(option) must be between 1 and \(maximum), got \(value)")
        }
    }
}
