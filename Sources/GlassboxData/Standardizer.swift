import GlassboxNN

/// Per-feature standardisation `(x - mean) / std`, fitted on training data only and stored with
/// a model (it is `Codable`) so the same transform is applied at prediction time.
///
/// The standard deviation is the population one (divide by n, as scikit-learn's
/// `StandardScaler`). A constant feature would divide by zero, so its scale is set to 1: it
/// maps to 0 everywhere instead of NaN.
public struct Standardizer: Codable, Sendable, Equatable {
    /// Per-feature mean, `[d]`.
    public var mean: [Float]
    /// Per-feature scale, `[d]`, always > 0.
    public var std: [Float]

    /// Makes a standardiser; scales must be positive and finite.
    public init(mean: [Float], std: [Float]) throws {
        guard mean.count == std.count else {
            throw GlassboxError.shapeMismatch("standardizer has \(mean.count) means but \(std.count) scales")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw GlassboxError.invalidArgument("standardizer scales must be positive and finite, means finite")
        }
        self.mean = mean
        self.std = std
    }

    private enum CodingKeys: String, CodingKey { case mean, std }

    /// Decodes and validates, so a damaged model file cannot smuggle in a zero scale.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let mean = try container.decode([Float].self, forKey: .mean)
        let std = try container.decode([Float].self, forKey: .std)
        do {
            try self.init(mean: mean, std: std)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .std, in: container, debugDescription: "\(error)")
        }
    }

    /// Fits mean and scale of each column of `features` (`[n, d]`, n ≥ 1). Cost: two passes in Double.
    public static func fit(_ features: Tensor) throws -> Standardizer {
        guard features.rank == 2, features.shape[0] > 0 else {
            throw GlassboxError.invalidArgument("standardizer needs at least one row of [n, d] features, got \(features.shape)")
        }
        try features.checkFinite("features to standardise")
        let (n, d) = (features.shape[0], features.shape[1])
        var sums = [Double](repeating: 0, count: d)
        var squares = [Double](repeating: 0, count: d)
        features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<n { for j in 0..<d { sums[j] += Double(x[i * d + j]) } }
            for j in 0..<d { sums[j] /= Double(n) }
            for i in 0..<n {
                for j in 0..<d {
                    let delta = Double(x[i * d + j]) - sums[j]
                    squares[j] += delta * delta
                }
            }
        }
        let std = (0..<d).map { j -> Float in
            let s = (squares[j] / Double(n)).squareRoot()
            // Below this the column is constant up to rounding; scaling it up would amplify noise.
            return s <= 1e-10 * Swift.max(1, abs(sums[j])) ? 1 : Float(s)
        }
        return try Standardizer(mean: sums.map { Float($0) }, std: std)
    }

    /// `(x - mean) / std` per column of `features` (`[n, d]`).
    public func transform(_ features: Tensor) throws -> Tensor {
        try check(features)
        let d = mean.count
        var out = features
        out.scalars.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] = (x[i] - mean[i % d]) / std[i % d] }
        }
        return out
    }

    /// `x * std + mean`: back to original units.
    public func inverseTransform(_ features: Tensor) throws -> Tensor {
        try check(features)
        let d = mean.count
        var out = features
        out.scalars.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] = x[i] * std[i % d] + mean[i % d] }
        }
        return out
    }

    private func check(_ features: Tensor) throws {
        guard features.rank == 2, features.shape[1] == mean.count else {
            throw GlassboxError.shapeMismatch("standardizer fitted on \(mean.count) features cannot transform \(features.shape)")
        }
    }
}

extension Dataset {
    /// This dataset with features transformed by `standardizer`.
    public func standardized(with standardizer: Standardizer) throws -> Dataset {
        try replacingFeatures(standardizer.transform(features))
    }
}
