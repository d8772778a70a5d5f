import ArgumentParser
import Foundation
import Glassbox

struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Print the global feature ranking stored in a model trained with --scores.",
        discussion: """
            Reads the ScoresActivation layer of a model saved by `glassbox train --scores` and ranks the \
            features by their weight w = softmax(s/τ) (the paper's readout) and by the effective \
            importance w_i·‖W_i‖ (w times the norm of what the next layer multiplies feature i by; \
            robust to rescaling between the two layers). With feature groups (one-hot columns) it \
            also sums both per original column.

            Example: glassbox train --data data.csv --target label --scores --out model.safetensors
                     glassbox rank model.safetensors
            Example: glassbox rank model.safetensors --json
            """
    )

    @Argument(help: "A model file written by glassbox train --scores.") var model: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output (this command finishes at once and prints none; accepted as every command does).")
    var quiet = false

    struct Output: Codable {
        var model: String
        var family: String
        var temperature: Double
        var features: [RankEntry]
        var groups: [GroupEntry]?
    }

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: model)
            let loaded = try TabularModel.load(from: url)
            let scores = try featureScores(of: loaded, path: url.path)
            let output = Output(model: model, family: loaded.family.rawValue, temperature: scores.temperature,
                                features: rankEntries(scores), groups: try groupEntries(scores, loaded))
            if json {
                try printJSON(output)
            } else {
                print("\(model): \(loaded.family.rawValue) with ScoresActivation (temperature \(scores.temperature)), \(scores.weights.count) features")
                printRanking(output.features)
                if let groups = output.groups { printGroups(groups) }
            }
        }
    }
}

/// The model's ScoresActivation readout; the error names the file when it has none.
func featureScores(of model: TabularModel, path: String) throws -> FeatureScores {
    do {
        return try model.featureScores()
    } catch let error as GlassboxError {
        guard case .invalidArgument = error else { throw error }
        throw GlassboxError.badFile(path: path, location: "architecture",
                                    problem: "the model has no ScoresActivation layer: train it with `glassbox train --scores`")
    }
}

/// One feature of a ranking, in JSON as `{"rank": 1, "feature": "x3", "index": 3, "score": …,
/// "weight": …, "effective_importance": …, "effective_rank": …}`.
struct RankEntry: Codable {
    var rank: Int
    var feature: String
    var index: Int
    var score: Double
    var weight: Double
    var effective_importance: Double?
    var effective_rank: Int?
}

/// One original column (group of features): the sums of its features' weights and effective importances.
struct GroupEntry: Codable {
    var rank: Int
    var group: String
    var columns: [Int]
    var weight: Double
    var effective_importance: Double?
}

/// Features by decreasing weight.
func rankEntries(_ s: FeatureScores) -> [RankEntry] {
    var effectiveRank: [Int: Int] = [:]
    for (r, i) in (s.effectiveRanking ?? []).enumerated() { effectiveRank[i] = r + 1 }
    return s.ranking.enumerated().map { r, i in
        RankEntry(rank: r + 1, feature: s.featureNames[i], index: i, score: s.scores[i], weight: s.weights[i],
                  effective_importance: s.effectiveImportance?[i], effective_rank: effectiveRank[i])
    }
}

/// Original columns by decreasing total weight, or nil when every column is one feature.
func groupEntries(_ s: FeatureScores, _ model: TabularModel) throws -> [GroupEntry]? {
    guard model.groups.contains(where: { $0.count > 1 }) else { return nil }
    let weights = try FeatureScores.aggregate(s.weights, groups: model.groups)
    let effective = try s.effectiveImportance.map { try FeatureScores.aggregate($0, groups: model.groups) }
    return Agreement.ranking(weights).enumerated().map { r, g in
        GroupEntry(rank: r + 1, group: model.groupNames[g], columns: model.groups[g], weight: weights[g],
                   effective_importance: effective?[g])
    }
}

func printRanking(_ entries: [RankEntry]) {
    let width = max(7, entries.map(\.feature.count).max() ?? 0)
    print("rank  " + "feature".padding(toLength: width, withPad: " ", startingAt: 0) + "    weight   effective  (rank)")
    for e in entries {
        let effective = e.effective_importance.map { String(format: "%10.4f  (%d)", $0, e.effective_rank ?? 0) } ?? "         —"
        print(String(format: "%4d  ", e.rank) + e.feature.padding(toLength: width, withPad: " ", startingAt: 0)
              + String(format: "  %8.4f", e.weight) + "  " + effective)
    }
}

func printGroups(_ groups: [GroupEntry]) {
    print("per original column (sums over its features):")
    let width = max(6, groups.map(\.group.count).max() ?? 0)
    for g in groups {
        print(String(format: "%4d  ", g.rank) + g.group.padding(toLength: width, withPad: " ", startingAt: 0)
              + String(format: "  %8.4f", g.weight) + (g.effective_importance.map { String(format: "  %10.4f", $0) } ?? ""))
    }
}
