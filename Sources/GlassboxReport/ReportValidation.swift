import Foundation
import GlassboxNN

/// The first inconsistency ``ReportData/validate()`` found: where (a JSON path such as
/// `tabular.methods[1].importance`) and what.
public struct ReportDataProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON path of the offending value, with snake_case keys as in the file.
    public var location: String
    /// What is wrong, in words.
    public var problem: String
    /// `location: problem`.
    public var description: String { "\(location): \(problem)" }
}

extension ReportData {
    /// Largest image side drawn (a guard against absurd sizes from a hand-edited file).
    public static let maxImageSide = 1024

    /// Checks that the results can be drawn: the format tag, every per-feature array as long as
    /// `feature_names`, square agreement matrices, pixel and heatmap counts matching the image
    /// size, curves with matching lengths, and finite numbers everywhere.
    /// Cost: O(size of the data).
    /// - Throws: ``ReportDataProblem`` naming the first bad value.
    public func validate() throws {
        guard format == Self.currentFormat else {
            throw ReportDataProblem(location: "format", problem: "is '\(format)', expected '\(Self.currentFormat)'")
        }
        if let seconds { try finite([seconds], "seconds") }
        if let tabular { try tabular.validate(at: "tabular") }
        if let image { try image.validate(at: "image") }
    }
}

private func fail(_ location: String, _ problem: String) -> ReportDataProblem {
    ReportDataProblem(location: location, problem: problem)
}

private func finite(_ values: [Double], _ location: String) throws {
    if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw fail("\(location)[\(i)]", "is \(values[i]), not a finite number")
    }
}

private func length(_ values: [Double], _ expected: Int, _ location: String, _ what: String) throws {
    guard values.count == expected else { throw fail(location, "has \(values.count) values for \(expected) \(what)") }
    try finite(values, location)
}

extension ModelSummary {
    func validate(at path: String) throws {
        try finite(testAccuracy, "\(path).test_accuracy")
        if let i = testAccuracy.firstIndex(where: { $0 < 0 || $0 > 1 }) {
            throw fail("\(path).test_accuracy[\(i)]", "is \(testAccuracy[i]), outside [0, 1]")
        }
    }
}

extension TabularReport {
    func validate(at path: String) throws {
        let d = featureNames.count
        guard d > 0 else { throw fail("\(path).feature_names", "is empty") }
        try model.validate(at: "\(path).model")
        if let ranking {
            guard !ranking.values.isEmpty else { throw fail("\(path).ranking.values", "is empty") }
            guard ranking.seeds.count == ranking.values.count else {
                throw fail("\(path).ranking.seeds", "has \(ranking.seeds.count) seeds for \(ranking.values.count) rows of values")
            }
            for (i, row) in ranking.values.enumerated() { try length(row, d, "\(path).ranking.values[\(i)]", "features") }
        }
        if let trajectory {
            for (i, row) in trajectory.values.enumerated() { try length(row, d, "\(path).trajectory.values[\(i)]", "features") }
        }
        for (m, method) in methods.enumerated() {
            try length(method.importance, d, "\(path).methods[\(m)].importance", "features")
            if let spread = method.spread { try length(spread, d, "\(path).methods[\(m)].spread", "features") }
        }
        if let attributions {
            for (i, row) in attributions.values.enumerated() { try length(row, d, "\(path).attributions.values[\(i)]", "features") }
            if let x = attributions.featureValues {
                guard x.count == attributions.values.count else {
                    throw fail("\(path).attributions.feature_values", "has \(x.count) rows for \(attributions.values.count) rows of attributions")
                }
                for (i, row) in x.enumerated() { try length(row, d, "\(path).attributions.feature_values[\(i)]", "features") }
            }
        }
        if let agreement {
            let m = agreement.methods.count
            guard (1...d).contains(agreement.k) else { throw fail("\(path).agreement.k", "is \(agreement.k), outside 1...\(d)") }
            for (name, matrix) in [("spearman", agreement.spearman), ("kendall", agreement.kendall), ("top_k", agreement.topK)] {
                guard matrix.count == m else { throw fail("\(path).agreement.\(name)", "has \(matrix.count) rows for \(m) methods") }
                for (i, row) in matrix.enumerated() {
                    guard row.count == m else { throw fail("\(path).agreement.\(name)[\(i)]", "has \(row.count) values for \(m) methods") }
                    try finite(row.compactMap { $0 }, "\(path).agreement.\(name)[\(i)]")
                }
            }
        }
    }
}

extension ImageReport {
    func validate(at path: String) throws {
        try model.validate(at: "\(path).model")
        for (e, example) in examples.enumerated() {
            let at = "\(path).examples[\(e)]"
            guard example.channels == 1 || example.channels == 3 else {
                throw fail("\(at).channels", "is \(example.channels); images have 1 or 3 channels")
            }
            let side = ReportData.maxImageSide
            guard (1...side).contains(example.height), (1...side).contains(example.width) else {
                throw fail(at, "image size \(example.height)×\(example.width) is outside 1…\(side) pixels a side")
            }
            let plane = example.height * example.width
            try length(example.pixels, example.channels * plane, "\(at).pixels", "values of a \(example.channels)×\(example.height)×\(example.width) image")
            try finite([example.confidence], "\(at).confidence")
            for (m, explanation) in example.explanations.enumerated() {
                try length(explanation.map, plane, "\(at).explanations[\(m)].map", "pixels")
                for (name, curve) in [("insertion", explanation.insertion), ("deletion", explanation.deletion)] {
                    guard let curve else { continue }
                    let c = "\(at).explanations[\(m)].\(name)"
                    guard curve.fractions.count >= 2 else { throw fail("\(c).fractions", "needs at least 2 points, has \(curve.fractions.count)") }
                    try length(curve.probabilities, curve.fractions.count, "\(c).probabilities", "fractions")
                    try finite(curve.fractions, "\(c).fractions")
                    try finite([curve.auc], "\(c).auc")
                }
            }
        }
    }
}
