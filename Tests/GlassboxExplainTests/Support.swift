import GlassboxExplain
import GlassboxNN

/// A randomly initialised MLP `features → hidden… → outputs` with ReLU (or Tanh, for smooth tests).
func randomMLP(features: Int, hidden: [Int] = [16, 8], outputs: Int = 2, seed: UInt64 = 1, smooth: Bool = false) throws -> any Layer {
    var rng = SeededGenerator(seed: seed)
    var layers: [any Layer] = []
    var width = features
    for h in hidden {
        layers.append(try Linear(inFeatures: width, outFeatures: h, rng: &rng))
        layers.append(smooth ? Tanh() as any Layer : ReLU())
        width = h
    }
    layers.append(try Linear(inFeatures: width, outFeatures: outputs, rng: &rng))
    return Sequential(layers)
}

/// `[n, d]` standard normal rows.
func normalRows(_ n: Int, _ d: Int, seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.normal([n, d], using: &rng)
}

/// A model with interactions: `f(x) = x0·x1 + x2·x3·x4 + sin(x5) + x0²` (features ≥ 6), one output.
func interactionModel(features: Int) throws -> PredictionFunction {
    try PredictionFunction(features: features, outputs: 1, concurrent: true) { x in
        let n = x.shape[0]
        return Tensor(uncheckedShape: [n, 1], scalars: (0..<n).map { r in
            let v = Array(x.scalars[(r * features)..<((r + 1) * features)])
            return v[0] * v[1] + v[2] * v[3] * v[4] + sin(v[5]) + v[0] * v[0]
        })
    }
}

/// A linear model `f(x) = w·x + b` as a one-layer network.
func linearModel(weights: [Float], bias: Float) throws -> (any Layer, PredictionFunction) {
    var rng = SeededGenerator(seed: 0)
    let layer = try Linear(inFeatures: weights.count, outFeatures: 1, rng: &rng)
    layer.weight.value = try Tensor(shape: [1, weights.count], scalars: weights)
    layer.bias!.value = Tensor([bias])
    return (layer, try PredictionFunction.logits(of: layer, features: weights.count))
}

/// Largest absolute difference between two explanations' values.
func maxDifference(_ a: Explanation, _ b: Explanation) -> Float {
    a.values.maxAbsDifference(b.values)
}

import Foundation
