import Foundation
import GlassboxReport

/// Names a careless page would turn into markup: tags, quotes, ampersands, a control character.
let hostileNames = [
    "<script>console.error('xss')</script>", "a \"quoted\" name", "it's & more", "</svg><b>bold</b>",
    "x<y>z", "tab\there", "bell\u{07}char", "ünïcødé → ✓",
]

/// A small report with every section filled, hostile names in every user-text slot, and values
/// computed from simple closed forms so tests know what to expect.
func sampleReport(features d: Int = 8, rows n: Int = 12, seeds: Int = 3) -> ReportData {
    let names = (0..<d).map { hostileNames[$0 % hostileNames.count] + ($0 >= hostileNames.count ? " \($0)" : "") }
    let seedList = (0..<seeds).map { UInt64(10 + $0) }
    // Seed s gives feature j the weight ∝ (d − j) + s/10: a clear order with a small spread.
    let ranking = seedList.map { s in
        let raw = (0..<d).map { Double(d - $0) + Double(s % 10) / 10 }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }
    let trajectory = (1...15).map { e in (0..<d).map { j in 1 / Double(d) + Double(e) / 15 * (Double(d - j) - Double(d) / 2) / Double(d * d) } }
    let methods = ["scores-activation", "kernel-shap", "permutation <&>"].enumerated().map { k, name in
        MethodImportance(method: name, importance: (0..<d).map { Double((d - $0 + k * 3) % d) + 0.5 },
                         spread: k == 2 ? (0..<d).map { _ in 0.2 } : nil, seconds: Double(k) * 0.5,
                         note: k == 1 ? "mean |φ| \"over\" rows & classes" : nil)
    }
    let values = (0..<n).map { r in (0..<d).map { j in sin(Double(r * 7 + j)) * Double(d - j) / Double(d) } }
    let featureValues = (0..<n).map { r in (0..<d).map { j in cos(Double(r + 3 * j)) } }
    let m = methods.count
    func matrix(_ f: (Int, Int) -> Double?) -> [[Double?]] { (0..<m).map { i in (0..<m).map { j in f(i, j) } } }
    let agreement = AgreementMatrix(methods: methods.map(\.method), k: 3,
                                    spearman: matrix { $0 == $1 ? 1 : ($0 + $1 == 3 ? nil : -0.4) },
                                    kendall: matrix { $0 == $1 ? 1 : 0.25 }, topK: matrix { $0 == $1 ? 1 : 2.0 / 3 })
    let tabular = TabularReport(
        data: DataSummary(name: "data <set> & \"friends\"", source: "file 'x.csv'", rows: 100, shape: "\(d) features",
                          classNames: ["<b>benign</b>", "mal'ignant"], classCounts: [60, 40], trainRows: 70, validationRows: 15,
                          testRows: 15),
        model: ModelSummary(architecture: "MLP <8→4→2>", parameters: 50, training: "Adam & friends", seeds: seedList,
                            testAccuracy: [0.9, 0.95, 1.0].prefix(seeds).map { $0 }, epochs: [10, 12, 15].prefix(seeds).map { $0 }),
        featureNames: names,
        ranking: FeatureRanking(method: "weights <w>", seeds: seedList, values: ranking, meanPairwiseSpearman: 0.97),
        trajectory: ScoreTrajectory(seed: seedList[0], values: trajectory, bestEpoch: 12, stableEpoch: 9),
        methods: methods,
        attributions: RowAttributions(method: "kernel-shap", className: "mal'ignant <1>", values: values, featureValues: featureValues),
        agreement: agreement)
    let side = 8
    func curve(_ up: Bool) -> CurveData {
        let f = (0...16).map { Double($0) / 16 }
        let p = f.map { up ? $0 * $0 : 1 - $0 }
        return CurveData(fractions: f, probabilities: p, auc: up ? 1.0 / 3 : 0.5)
    }
    let examples = (0..<2).map { e in
        ImageExample(name: "image <\(e)> \"q\"", trueClass: "class & \(e)", predictedClass: "<\(e)>", confidence: 0.9,
                     height: side, width: side,
                     pixels: (0..<(side * side)).map { Double(($0 / side + $0 % side + e) % side) / Double(side - 1) },
                     explanations: ["responsibility <AD>", "masking 'zero'"].map { name in
                         ImageExplanation(method: name, map: (0..<(side * side)).map { Double(($0 * 37) % 64) / 63 },
                                          insertion: curve(true), deletion: curve(false), evaluations: 420, seconds: 0.05)
                     })
    }
    let image = ImageReport(
        data: DataSummary(name: "digits <8×8>", rows: 50, shape: "1×8×8", classNames: (0..<10).map { "<\($0)>" }),
        model: ModelSummary(architecture: "CNN", seeds: [1], testAccuracy: [0.97]),
        explainer: "ReX <responsibility> & friends", examples: examples)
    return ReportData(title: "Report <title> & \"quotes\"", generator: "glassbox demo --out '<dir>'",
                      createdAt: "2026-11-22T00:00:00Z", seconds: 1.5, notes: ["note with <tags> & ampersands"],
                      tabular: tabular, image: image)
}
