import Foundation

/// The global feature ranking a trained model's ``ScoresActivation`` layer holds, read out two ways.
///
/// - **Weights** (the paper's readout): `w = softmax(s/τ)`, one positive weight per feature,
///   summing to 1; the ranking sorts features by `w` (equivalently by the raw scores `s`).
/// - **Effective importance** *(ours)*: `w_i · ‖W_i‖₂`, where `W_i` is what feature `i` is
///   multiplied by next — column `i` of the first ``Linear`` after the layer (`W[:, i]`), or the
///   weight vector of feature `i` in a ``FeatureTokenizer``.
///
/// Why two: the model computes `W · diag(w) · x`, and scaling `w_i` by `c` while dividing column
/// `i` of `W` by `c` leaves the function unchanged, so `w` alone is not identifiable — a feature
/// can reach a large effect through a small `w_i` and a large `‖W_i‖`. The effective importance
/// is the product, invariant to that rescaling: the size of the linear map from `x_i` into the
/// first hidden layer. Neither readout is the feature's causal effect on the output (later layers
/// can still ignore a direction); on standardised inputs both are comparable across features.
/// Softmax never reaches zero, so no weight is exactly 0, and redundant features may split their
/// weight arbitrarily between them.
public struct FeatureScores: Codable, Sendable, Equatable {
    /// One name per input feature.
    public var featureNames: [String]
    /// The softmax temperature `τ` of the layer.
    public var temperature: Double
    /// Raw scores `s`.
    public var scores: [Double]
    /// `w = softmax(s/τ)`.
    public var weights: [Double]
    /// `w_i · ‖W_i‖₂`, or nil when no ``Linear``/``FeatureTokenizer`` taking the `d` weighted
    /// features follows the layer.
    public var effectiveImportance: [Double]?
    /// Dotted path of the ScoresActivation layer in the model (`"0"`), and of the layer whose
    /// weights enter the effective importance (`"1"`).
    public var layerPath: String, nextLayerPath: String?

    /// Feature indices by decreasing weight (ties: lower index first).
    public var ranking: [Int] { Agreement.ranking(weights) }
    /// Feature indices by decreasing effective importance.
    public var effectiveRanking: [Int]? { effectiveImportance.map(Agreement.ranking) }

    /// The importances of one readout.
    public func importances(_ readout: ScoresReadout) -> [Double]? {
        readout == .weights ? weights : effectiveImportance
    }

    /// Reads the first ``ScoresActivation`` of `model` (depth first) and the next layer that
    /// multiplies its output. `featureNames` default to `x0`, `x1`, …
    /// Cost: O(d·out) for the column norms.
    public static func read(from model: any Layer, featureNames: [String]? = nil) throws -> FeatureScores {
        let layers = Self.layers(of: model)
        guard let at = layers.firstIndex(where: { $0.layer is ScoresActivation }),
              let layer = layers[at].layer as? ScoresActivation else {
            throw GlassboxError.invalidArgument("the model has no ScoresActivation layer")
        }
        let d = layer.numFeatures
        let names = featureNames ?? (0..<d).map { "x\($0)" }
        guard names.count == d else {
            throw GlassboxError.shapeMismatch("\(names.count) feature names for a ScoresActivation layer of \(d) features")
        }
        let weights = try layer.weights.map(Double.init)
        let next = layers[(at + 1)...].lazy.compactMap { entry in inputNorms(entry.layer, features: d).map { (entry.path, $0) } }.first
        return FeatureScores(featureNames: names, temperature: layer.temperature, scores: layer.scores.value.scalars.map(Double.init),
                             weights: weights, effectiveImportance: next.map { zip(weights, $0.1).map(*) },
                             layerPath: layers[at].path, nextLayerPath: next?.0)
    }

    /// For a model without the layer: `‖W_i‖₂` of its first ``Linear`` or ``FeatureTokenizer``
    /// — the effective importance with uniform weights, a gradient-free baseline readout.
    /// Nil when the model does not start with such a layer of `features` inputs.
    public static func inputWeightNorms(of model: any Layer, features: Int) -> [Double]? {
        for entry in layers(of: model) {
            if let norms = inputNorms(entry.layer, features: features) { return norms }
            if entry.layer is Linear || entry.layer is FeatureTokenizer { return nil }
        }
        return nil
    }

    /// Sums of `values` over index groups (e.g. the one-hot columns of one original categorical
    /// column, ``FeatureGroup/features``): for weights, the probability mass a whole original
    /// column receives. Sums favour wide groups — with uniform weights a group of `m` of the `d`
    /// features already holds `m/d` — so compare a group's sum with that share.
    public static func aggregate(_ values: [Double], groups: [[Int]]) throws -> [Double] {
        try groups.map { group in
            try group.reduce(0.0) { total, i in
                guard values.indices.contains(i) else {
                    throw GlassboxError.invalidArgument("group index \(i) is outside 0..<\(values.count) features")
                }
                return total + values[i]
            }
        }
    }

    /// ‖column i‖ of a Linear's `[out, in]` weight or ‖row i‖ of a tokenizer's `[d, e]` weight.
    private static func inputNorms(_ layer: any Layer, features d: Int) -> [Double]? {
        if let linear = layer as? Linear, linear.inFeatures == d {
            let w = linear.weight.value.scalars, out = linear.outFeatures
            return (0..<d).map { i in (0..<out).reduce(0.0) { $0 + Double(w[$1 * d + i]) * Double(w[$1 * d + i]) }.squareRoot() }
        }
        if let tokenizer = layer as? FeatureTokenizer, tokenizer.numFeatures == d {
            let w = tokenizer.weight.value.scalars, e = tokenizer.embedDim
            return (0..<d).map { i in w[(i * e)..<((i + 1) * e)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        }
        return nil
    }

    /// Every layer of `model` depth first, parents before children, with dotted paths.
    static func layers(of model: any Layer) -> [(path: String, layer: any Layer)] {
        var out: [(path: String, layer: any Layer)] = []
        func visit(_ layer: any Layer, _ path: String) {
            out.append((path, layer))
            for child in layer.children { visit(child.layer, path.isEmpty ? child.name : path + "." + child.name) }
        }
        visit(model, "")
        return out
    }
}

/// Which importance a ranking of a ScoresActivation model is read from (see ``FeatureScores``).
public enum ScoresReadout: String, Codable, Sendable, CaseIterable {
    /// `w = softmax(s/τ)`, the paper's readout.
    case weights
    /// `w_i · ‖W_i‖₂`.
    case effective
}
