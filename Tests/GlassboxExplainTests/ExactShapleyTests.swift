import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

/// The Gray-code, per-background-row enumeration against Kernel SHAP with every coalition (the
/// coalition-by-coalition game and a regression: an independent route to the same values).
@Suite struct ExactShapleyTests {
    /// `[n, d]` rows of 0/1 values: explained and background rows agree on about half their
    /// columns, so background rows differ from a row in different sets of players.
    static func binaryRows(_ n: Int, _ d: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(uncheckedShape: [n, d], scalars: (0..<(n * d)).map { _ in Float(rng.int(below: 2)) })
    }

    @Test(arguments: [false, true])
    func agreesWithFullKernelSHAP(binary: Bool) throws {
        let d = 9
        for f in [try PredictionFunction.probabilities(of: try randomMLP(features: d, hidden: [24, 8], seed: 50), features: d),
                  try interactionModel(features: d)] {
            let background = try Background(binary ? ExactShapleyTests.binaryRows(7, d, seed: 51) : normalRows(7, d, seed: 51),
                                            weights: [1, 2, 1, 3, 1, 1, 2])
            let rows = binary ? ExactShapleyTests.binaryRows(4, d, seed: 52) : normalRows(4, d, seed: 52)
            let exact = try ExactShapley(background: background).explain(rows, model: f)
            let kernel = try KernelSHAP(background: background, budget: 1 << d).explain(rows, model: f)
            #expect(maxDifference(exact, kernel) < 2e-5)
            #expect(try #require(exact.audit.maxCompletenessGap) < 1e-5)
            let full = 4 + 7 + 4 * 7 << d
            if binary {
                // Background rows are enumerated only over the players where they differ.
                #expect(exact.audit.modelEvaluations < full / 4)
                #expect(try ExactShapley(background: background).cost(of: rows, model: f) == exact.audit.modelEvaluations - 11)
            } else {
                #expect(exact.audit.modelEvaluations == full)
            }
        }
    }

    /// 16 players: long Gray walks (restarted every 512 steps) stay within float rounding of a
    /// direct evaluation.
    @Test func sixteenPlayersMatchTheGame() throws {
        let d = 16
        let f = try PredictionFunction.logits(of: try randomMLP(features: d, hidden: [32, 16], seed: 53), features: d)
        let background = try Background(normalRows(3, d, seed: 54))
        let rows = normalRows(1, d, seed: 55)
        let exact = try ExactShapley(background: background).explain(rows, model: f)
        let kernel = try KernelSHAP(background: background, budget: 1 << d).explain(rows, model: f)
        #expect(maxDifference(exact, kernel) < 5e-5)
        #expect(exact.audit.settings["enumeration"] == "Gray code, first layer incremental")
    }

    /// `shapley` enumerates when that costs at most 32× Kernel SHAP's evaluations and samples
    /// otherwise, and says so.
    @Test func automaticChoice() throws {
        let background = try Background(normalRows(4, 17, seed: 56))
        for (d, expected) in [(8, "exact"), (16, "exact"), (17, "kernel-shap")] {
            let f = try PredictionFunction.logits(of: try randomMLP(features: d, seed: 57), features: d)
            let bg = try Background(Tensor(uncheckedShape: [4, d], scalars: (0..<4).flatMap { r in background.rows.scalars[(r * 17)..<(r * 17 + d)] }))
            let e = try AutomaticShapley(background: bg, budget: d == 8 ? 300 : nil).explain(normalRows(1, d, seed: 58), model: f)
            #expect(e.audit.settings["shapley_choice"] == expected, "\(d): \(e.audit.settings)")
            #expect(e.audit.settings["shapley_reason"]?.contains("Kernel SHAP") == true)
            #expect(e.method == (expected == "exact" ? "exact-shapley" : "kernel-shap"))
            #expect(try #require(e.standardErrors).shape == e.values.shape)
        }
    }
}
