import Testing
@testable import GlassboxNN

/// `InferencePlan.leadingDense()` and `predictAfterLeadingDense`: the unpacked, folded first
/// layer equals the model's, and running the rest of the plan on its outputs equals `predict`.
@Suite struct LeadingDenseTests {
    static func mlp(_ widths: [Int], leading: [any Layer] = [], seed: UInt64) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        var layers = leading
        for i in 1..<widths.count {
            layers.append(try Linear(inFeatures: widths[i - 1], outFeatures: widths[i], rng: &rng))
            if i + 1 < widths.count { layers.append(ReLU()) }
        }
        return Sequential(layers)
    }

    /// `act(W·x + bias)` from the leading layer's tables, in double precision.
    static func hidden(_ l: InferencePlan.LeadingDense, _ x: [Float]) -> [Float] {
        (0..<l.width).map { h in
            var s = Double(l.bias[h])
            for j in 0..<l.inputs { s += Double(x[j]) * Double(l.transposedWeights[j * l.paddedWidth + h]) }
            if l.activation == 1 { s = max(s, 0) } else if l.activation == 2 { s = s > 0 ? s : Double(l.slope) * s }
            return Float(s)
        }
    }

    static func checkRest(_ model: any Layer, features d: Int, rows n: Int) throws {
        let plan = try model.compiledForInference(sampleShape: [d])
        let leading = try #require(plan.leadingDense())
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.normal([n, d], using: &rng)
        let expected = try model.predict(x)
        var out = [Float](repeating: .nan, count: n * plan.outputCount)
        var covered = 0
        try plan.predictAfterLeadingDense(leading, batch: n, fill: { rows, h, stride in
            covered += rows.count
            for r in rows {
                let v = hidden(leading, Array(x.scalars[(r * d)..<((r + 1) * d)]))
                for (t, value) in v.enumerated() { h[(r - rows.lowerBound) * stride + t] = value }
            }
        }, into: &out)
        #expect(covered == n)
        let worst = zip(out, expected.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst < 1e-5, "largest relative difference \(worst)")
    }

    @Test func tablesAreTheFirstLayer() throws {
        let model = try LeadingDenseTests.mlp([7, 45, 3], seed: 1)
        let plan = try model.compiledForInference(sampleShape: [7])
        let l = try #require(plan.leadingDense())
        let linear = model.layers[0] as! Linear
        #expect(l.inputs == 7 && l.width == 45 && l.paddedWidth == 48 && l.activation == 1)
        for o in 0..<45 {
            #expect(l.bias[o] == linear.bias!.value.scalars[o])
            for j in 0..<7 { #expect(l.transposedWeights[j * 48 + o] == linear.weight.value.scalars[o * 7 + j]) }
        }
        for o in 45..<48 { #expect(l.bias[o] == 0) }
    }

    @Test func restOfThePlanEqualsPredict() throws {
        try LeadingDenseTests.checkRest(try LeadingDenseTests.mlp([10, 64, 32, 2], seed: 2), features: 10, rows: 300)
        try LeadingDenseTests.checkRest(try LeadingDenseTests.mlp([5, 20, 1], seed: 3), features: 5, rows: 7)
        try LeadingDenseTests.checkRest(try LeadingDenseTests.mlp([6, 33], seed: 4), features: 6, rows: 9)   // the dense layer is the output
        var rng = SeededGenerator(seed: 5)
        let scores = try ScoresActivation(numFeatures: 8)
        scores.scores.value = Tensor.normal([8], using: &rng)
        try LeadingDenseTests.checkRest(try LeadingDenseTests.mlp([8, 24, 3], leading: [scores], seed: 6), features: 8, rows: 40)
    }

    @Test func modelsWithoutALeadingDenseLayer() throws {
        var rng = SeededGenerator(seed: 7)
        // The input is read again after the first layer (a residual around it).
        let residual = Sequential([Residual(body: try Linear(inFeatures: 4, outFeatures: 4, rng: &rng)),
                                   try Linear(inFeatures: 4, outFeatures: 2, rng: &rng)])
        #expect(try residual.compiledForInference(sampleShape: [4]).leadingDense() == nil)
        #expect(try Sequential([Tanh(), try Linear(inFeatures: 4, outFeatures: 2, rng: &rng)])
            .compiledForInference(sampleShape: [4]).leadingDense() == nil)
    }
}
