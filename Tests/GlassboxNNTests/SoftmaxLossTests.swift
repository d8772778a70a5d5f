import Foundation
import Testing
@testable import GlassboxNN

@Suite("Softmax and losses")
struct SoftmaxLossTests {
    static let axes: [([Int], Int)] = [
        ([5], 0), ([5], -1), ([3, 4], 0), ([3, 4], 1), ([3, 4], -1), ([3, 4], -2),
        ([2, 3, 4], 0), ([2, 3, 4], 1), ([2, 3, 4], 2), ([2, 3, 4], -2),
    ]

    @Test(arguments: axes, [false, true])
    func softmaxGradients(_ c: ([Int], Int), _ log: Bool) throws {
        let x = randomTensor(c.0, seed: 21, lo: -2, hi: 2)
        let bad = try GradientCheck.mismatches(inputs: [x]) {
            log ? try logSoftmax($0[0], axis: c.1) : try softmax($0[0], axis: c.1)
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test(arguments: axes)
    func softmaxSumsToOneAndLogSoftmaxAgrees(_ c: ([Int], Int)) throws {
        let x = Variable(randomTensor(c.0, seed: 22, lo: -3, hi: 3))
        let y = try softmax(x, axis: c.1).value
        let total = try reduceSum(y, axes: [c.1], keepDims: false).0
        #expect(total.scalars.allSatisfy { abs($0 - 1) < 1e-5 })
        let logY = try logSoftmax(x, axis: c.1).value
        #expect(logY.map { Foundation.exp($0) }.maxAbsDifference(y) < 1e-6)
    }

    @Test func softmaxIsStableAtHugeMagnitudes() throws {
        let x = Variable(try Tensor(rows: [[1e30, -1e30, 0], [5e4, 5e4 - 1, -5e4]]))
        let y = try softmax(x, axis: 1).value, logY = try logSoftmax(x, axis: 1).value
        #expect(y.isFinite && logY.isFinite)
        #expect(y.scalars[0] == 1 && logY.scalars[1] == -2e30)
    }

    @Test(arguments: LossReduction.allCases, [false, true])
    func crossEntropyGradients(_ reduction: LossReduction, _ weighted: Bool) throws {
        let logits = randomTensor([4, 3], seed: 23, lo: -2, hi: 2)
        let weights = weighted ? Tensor([0.5, 2, 1.5]) : nil
        let bad = try GradientCheck.mismatches(inputs: [logits]) {
            try crossEntropy($0[0], labels: [2, 0, 2, 1], reduction: reduction, weights: weights)
        }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test func crossEntropyEqualsMeanNegativeLogSoftmax() throws {
        let logits = Variable(randomTensor([3, 4], seed: 24, lo: -3, hi: 3))
        let labels = [3, 0, 1]
        let logP = try logSoftmax(logits, axis: 1).value
        let expected = -labels.enumerated().map { logP.scalars[$0.offset * 4 + $0.element] }.reduce(0, +) / 3
        #expect(abs(try crossEntropy(logits, labels: labels).value.scalar - expected) < 1e-6)
    }

    @Test(arguments: LossReduction.allCases)
    func pointwiseLossGradients(_ reduction: LossReduction) throws {
        let z = randomTensor([3, 4], seed: 25, lo: -3, hi: 3), t = randomTensor([3, 4], seed: 26, lo: 0, hi: 1)
        let bce = try GradientCheck.mismatches(inputs: [z, t]) {
            try binaryCrossEntropyWithLogits($0[0], $0[1], reduction: reduction)
        }
        #expect(bce.isEmpty, "\(bce.prefix(3))")
        let mse = try GradientCheck.mismatches(inputs: [z, t]) { try mseLoss($0[0], $0[1], reduction: reduction) }
        #expect(mse.isEmpty, "\(mse.prefix(3))")
    }

    @Test func bceWithLogitsIsStableAtHugeLogits() throws {
        let z = Variable(Tensor([-1e4, 1e4, -1e4, 1e4]), requiresGrad: true)
        let loss = try binaryCrossEntropyWithLogits(z, Variable(Tensor([0, 1, 1, 0])), reduction: .none)
        #expect(loss.value.scalars == [0, 0, 1e4, 1e4])
        try sum(loss).backward()
        #expect(z.grad?.scalars == [0, 0, -1, 1])
    }

    @Test func lossErrorsNameTheOffendingValues() {
        let logits = Variable(randomTensor([3, 5], seed: 27))
        expectError(mentioning: ["label 7", "row 2", "5 classes"]) { try crossEntropy(logits, labels: [0, 1, 7]) }
        expectError(mentioning: ["label -1", "row 0"]) { try crossEntropy(logits, labels: [-1, 1, 2]) }
        expectError(mentioning: ["2 labels", "[3, 5]"]) { try crossEntropy(logits, labels: [0, 1]) }
        expectError(mentioning: ["empty", "[0, 5]"]) { try crossEntropy(Variable(.zeros([0, 5])), labels: []) }
        expectError(mentioning: ["[4]", "[5]"]) { try crossEntropy(logits, labels: [0, 1, 2], weights: .ones([4])) }
        expectError(mentioning: ["[3, 5, 1]"]) { try crossEntropy(Variable(.zeros([3, 5, 1])), labels: [0, 1, 2]) }
        expectError(mentioning: ["[3, 5]", "[5, 3]"]) { try binaryCrossEntropyWithLogits(logits, Variable(.zeros([5, 3]))) }
        expectError(mentioning: ["empty", "[0, 2]"]) { try mseLoss(Variable(.zeros([0, 2])), Variable(.zeros([0, 2]))) }
        expectError(mentioning: ["axis 2", "rank 2"]) { try softmax(logits, axis: 2) }
    }
}
