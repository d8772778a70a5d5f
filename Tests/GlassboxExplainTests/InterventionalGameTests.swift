import Testing
@testable import GlassboxExplain
import GlassboxNN

/// The coalition values `v(S) = Σ_b w_b f(x_S, b_S̄)` through the compiled model's leading dense
/// layer (computed incrementally) against the same game on a closure that runs `predict` on the
/// materialised rows.
@Suite struct InterventionalGameTests {
    /// The same model behind a closure: no compiled plan, so the game builds every row.
    static func reference(_ model: any Layer, features: Int, outputs: Int, probabilities: Bool) throws -> PredictionFunction {
        nonisolated(unsafe) let model = model   // evaluated serially (not `concurrent`)
        return try PredictionFunction(features: features, outputs: outputs) { x in
            let y = try model.predict(x)
            return probabilities ? PredictionFunction.probabilities(fromLogits: y) : y
        }
    }

    static func randomMasks(_ count: Int, players: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var masks = [UInt8](repeating: 0, count: players)                   // the empty coalition
        masks += [UInt8](repeating: 1, count: players)                      // the full one
        for _ in 0..<count { masks += (0..<players).map { _ in UInt8(rng.int(below: 2)) } }
        return masks
    }

    static func check(_ model: any Layer, features d: Int, outputs o: Int, players: Players, backgroundRows: Int,
                      probabilities: Bool, expectFastPath: Bool = true) throws {
        let fast = probabilities ? try PredictionFunction.probabilities(of: model, features: d)
                                 : try PredictionFunction.logits(of: model, features: d)
        let slow = try reference(model, features: d, outputs: o, probabilities: probabilities)
        let background = try Background(normalRows(backgroundRows, d, seed: 7))
        let fastGame = try InterventionalGame(model: fast, background: background, players: players)
        let slowGame = try InterventionalGame(model: slow, background: background, players: players)
        #expect(fastGame.usesLeadingDense == expectFastPath)
        #expect(!slowGame.usesLeadingDense)
        let rows = normalRows(3, d, seed: 11)
        let masks = (0..<3).map { randomMasks(40, players: players.count, seed: 100 + UInt64($0)) }
        let (a, evaluationsA) = try fastGame.values(of: rows, masks: masks)
        let (b, evaluationsB) = try slowGame.values(of: rows, masks: masks)
        #expect(evaluationsA == evaluationsB)
        var worst = 0.0
        for r in 0..<3 {
            #expect(a[r].count == b[r].count)
            for (x, y) in zip(a[r], b[r]) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        }
        #expect(worst < 1e-5, "largest relative difference \(worst)")
    }

    @Test func leadingDenseEqualsMaterialisedRows() throws {
        // Wider than one 32-output panel with a 16-wide tail, a background that splits into
        // uneven tiles, and more coalitions than one plan chunk holds.
        let model = try randomMLP(features: 12, hidden: [48, 24], outputs: 3, seed: 3)
        try InterventionalGameTests.check(model, features: 12, outputs: 3, players: try Players(features: 12),
                                          backgroundRows: 37, probabilities: false)
        try InterventionalGameTests.check(model, features: 12, outputs: 3, players: try Players(features: 12),
                                          backgroundRows: 37, probabilities: true)
    }

    @Test func groupedPlayers() throws {
        let model = try randomMLP(features: 9, hidden: [16], outputs: 2, seed: 4)
        // Two groups; the other columns become players of their own.
        let players = try Players(groups: [[0, 3], [2, 4, 5]], features: 9)
        try InterventionalGameTests.check(model, features: 9, outputs: 2, players: players, backgroundRows: 5, probabilities: true)
    }

    @Test func rowsWiderThanOneBitMaskWord() throws {
        // More than 64 columns: coalition sides come from membership bytes, not bit masks.
        let model = try randomMLP(features: 70, hidden: [24], outputs: 2, seed: 8)
        let players = try Players(groups: [Array(0..<30), [40, 65, 69]], features: 70)
        try InterventionalGameTests.check(model, features: 70, outputs: 2, players: players, backgroundRows: 5, probabilities: true)
        try InterventionalGameTests.check(model, features: 70, outputs: 2, players: try Players(features: 70), backgroundRows: 3,
                                          probabilities: false)
    }

    @Test func scoresActivationAndLeakyReLUFoldIntoTheLeadingLayer() throws {
        var rng = SeededGenerator(seed: 5)
        let scores = try ScoresActivation(numFeatures: 6)
        scores.scores.value = Tensor.normal([6], using: &rng)
        let model = Sequential([scores, try Linear(inFeatures: 6, outFeatures: 20, rng: &rng), try LeakyReLU(negativeSlope: 0.1),
                                try Linear(inFeatures: 20, outFeatures: 2, rng: &rng)])
        try InterventionalGameTests.check(model, features: 6, outputs: 2, players: try Players(features: 6), backgroundRows: 16,
                                          probabilities: true)
    }

    @Test func narrowFirstLayerIsEvaluatedAsAProduct() throws {
        let model = try randomMLP(features: 5, hidden: [8], outputs: 2, seed: 6)
        try InterventionalGameTests.check(model, features: 5, outputs: 2, players: try Players(features: 5), backgroundRows: 9,
                                          probabilities: false, expectFastPath: false)
    }
}
