import Foundation
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct InputErrorTests {
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func wrongFeatureCount() throws {
        let f = try PredictionFunction.logits(of: try randomMLP(features: 4), features: 4)
        let background = try Background(normalRows(3, 4, seed: 1))
        let text = message { _ = try KernelSHAP(background: background).explain(normalRows(2, 5, seed: 2), model: f) }
        #expect(text.contains("[n, 4]") && text.contains("[2, 5]"), "\(text)")
        let wide = try Background(normalRows(3, 6, seed: 1))
        let bg = message { _ = try ExactShapley(background: wide).explain(normalRows(2, 4, seed: 2), model: f) }
        #expect(bg.contains("6 features") && bg.contains("takes 4"), "\(bg)")
        let ig = message { _ = try IntegratedGradients(baseline: [0, 0]).explain(normalRows(1, 4, seed: 2), model: f) }
        #expect(ig.contains("2 values") && ig.contains("4 features"), "\(ig)")
    }

    @Test func emptyBackground() {
        let text = message { _ = try Background(Tensor.zeros([0, 4])) }
        #expect(text.contains("[0, 4]"), "\(text)")
        let weights = message { _ = try Background(Tensor.zeros([2, 4]), weights: [1, -1]) }
        #expect(weights.contains("weight 1 is -1.0"), "\(weights)")
    }

    @Test func budgetOutOfRange() throws {
        let f = try PredictionFunction.logits(of: try randomMLP(features: 6), features: 6)
        let background = try Background(normalRows(3, 6, seed: 1))
        let text = message { _ = try KernelSHAP(background: background, budget: 4).explain(normalRows(1, 6, seed: 2), model: f) }
        #expect(text.contains("budget 4") && text.contains("6 players"), "\(text)")
        let perm = message { _ = try PermutationSHAP(background: background, budget: 5).explain(normalRows(1, 6, seed: 2), model: f) }
        #expect(perm.contains("budget 5") && perm.contains("10 coalitions"), "\(perm)")
        // A budget that would make each row's schedule allocate without bound is refused up front.
        let huge = message { _ = try KernelSHAP(background: background, budget: 1 << 40).explain(normalRows(1, 6, seed: 2), model: f) }
        #expect(huge.contains("budget \(1 << 40)") && huge.contains("limit of 1048576"), "\(huge)")
        let hugePerm = message { _ = try PermutationSHAP(background: background, budget: 1 << 40).explain(normalRows(1, 6, seed: 2), model: f) }
        #expect(hugePerm.contains("budget \(1 << 40)") && hugePerm.contains("limit of 1048576"), "\(hugePerm)")
    }

    @Test func otherBadArguments() throws {
        let f = try PredictionFunction.logits(of: try randomMLP(features: 3), features: 3)
        let closure = try PredictionFunction(features: 3, outputs: 1) { $0 }
        #expect(message { _ = try Saliency().explain(normalRows(1, 3, seed: 1), model: closure) }.contains("closure"))
        #expect(message { _ = try Saliency(outputs: [5]).explain(normalRows(1, 3, seed: 1), model: f) }.contains("output 5"))
        #expect(message { _ = try Players(groups: [[0, 1], [1]], features: 3) }.contains("column 1 is in player groups 0 and 1"))
        let background = try Background(normalRows(2, 21, seed: 1))
        let wide = try PredictionFunction.logits(of: try randomMLP(features: 21), features: 21)
        #expect(message { _ = try ExactShapley(background: background).explain(normalRows(1, 21, seed: 1), model: wide) }.contains("21 players"))
        var nan = normalRows(2, 3, seed: 1)
        nan.scalars[4] = .nan
        #expect(message { _ = try Saliency().explain(nan, model: f) }.contains("flat index 4"))
        // A closure returning the wrong shape is caught and named.
        #expect(message { _ = try closure(normalRows(2, 3, seed: 1)) }.contains("[2, 3]"))
    }
}
