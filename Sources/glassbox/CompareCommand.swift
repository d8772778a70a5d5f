import ArgumentParser
import Foundation
import Glassbox

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Global feature rankings of one model by every explainer, side by side, with their agreement and wall times.",
        discussion: """
            Runs the ScoresActivation readout (when the model has that layer) and each post-hoc method on the same \
            rows and background, ranks features by mean |attribution| (permutation importance: by accuracy drop), \
            and prints the pairwise agreement of every two rankings: Spearman's ρ and Kendall's τ-b of the \
            importances, and the overlap of their top-k sets (k = min(5, features)). \
            Exact Shapley runs only up to 12 features; permutation importance needs the target column in --data.
            Example: glassbox compare --model model.safetensors --data test.csv --rows 100
            Example: glassbox compare --model model.safetensors --data test.csv --rows 50 --json > compare.json
            """
    )

    @OptionGroup var setup: ExplanationSetupOptions
    @Option(help: "Coalitions per row for kernel-shap and permutation-shap (default 2·features + 2048, for kernel-shap counting only features that differ from the background).") var budget: Int?
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "No progress output on standard error.") var quiet = false

    /// Rows explained when --rows is not given: the Shapley methods cost budget × background model rows each.
    static let defaultRows = 100

    struct Entry: Codable {
        var method: String
        var wall_seconds: Double
        var model_evaluations: Int
        var gradient_evaluations: Int
        var ranking: [String]
        var global_importance: [RankedFeature]
    }

    /// Agreement of two methods' global importances (all higher-is-better; NaN → null when a
    /// ranking is constant).
    struct Pair: Codable {
        var a: String, b: String
        var spearman: Double?, kendall_tau_b: Double?, top_k_overlap: Double
    }

    struct Report: Codable {
        var rows: Int
        var features: [String]
        var output: String
        var input_space = "standardized"
        var methods: [Entry]
        var top_k: Int
        var agreement: [Pair]
        var skipped: [String: String]
    }

    func run() throws {
        try reportingErrors {
            try setup.checkLimits()
            if let budget { try Limits.checkCount(budget, option: "--budget") }
            var options = setup
            if options.rows == nil { options.rows = CompareCommand.defaultRows }
            let context = try options.load()
            let (rows, f, players) = (context.rows, context.function, context.players)
            var results: [GlobalImportance] = []
            var skipped: [String: String] = [:]
            if let readout = scoresActivationReadout(context) { results.append(readout) } else {
                skipped["scores-activation"] = "the model has no ScoresActivation layer"
            }
            var explainers: [any LocalExplainer] = [
                KernelSHAP(background: context.background, players: players, budget: budget, seed: setup.seed),
                PermutationSHAP(background: context.background, players: players, budget: budget, seed: setup.seed),
                IntegratedGradients(players: players), Saliency(players: players), GradientTimesInput(players: players),
                SmoothGrad(seed: setup.seed, players: players),
            ]
            if players.count <= 12 {
                explainers.insert(ExactShapley(background: context.background, players: players), at: 0)
            } else {
                skipped["exact-shapley"] = "\(players.count) features: 2^\(players.count) coalitions per row is too many for a comparison (limit 12)"
            }
            let progress = StepProgress(total: explainers.count + (context.labels == nil ? 0 : 1), label: "compare",
                                        style: .choose(quiet: quiet, json: json))
            for explainer in explainers {
                progress.begin(explainer.method)
                results.append(try explainer.explain(rows, model: f).globalImportance())
                progress.end(explainer.method)
            }
            if let labels = context.labels {
                // Global and cheap: on every labelled row, not only the explained ones.
                progress.begin("permutation-importance")
                results.append(try PermutationImportance(players: players, seed: setup.seed)
                    .importance(of: f, data: context.inputs, labels: labels))
                progress.end("permutation-importance")
            } else {
                skipped["permutation"] = "no target column in the data"
            }
            progress.finish()
            let entries = results.map { r in
                Entry(method: r.method, wall_seconds: r.audit.wallSeconds, model_evaluations: r.audit.modelEvaluations,
                      gradient_evaluations: r.audit.gradientEvaluations, ranking: r.ranking.map { r.names[$0] },
                      global_importance: ExplainText.ranked(r))
            }
            let k = min(5, players.count)
            let pairs = try CompareCommand.agreement(results, k: k)
            if json {
                try printJSON(Report(rows: rows.shape[0], features: players.names, output: f.output.rawValue, methods: entries,
                                     top_k: k, agreement: pairs, skipped: skipped))
                return
            }
            print("\(rows.shape[0]) rows × \(players.count) features, \(f.output.rawValue) outputs, background: \(context.background.summary)")
            print("rankings are of the model's inputs (standardised features); 1 = most important")
            let width = max(players.names.map(\.count).max() ?? 0, entries.map(\.method.count).max() ?? 0)
            func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
            print(pad("rank", 6) + entries.map { pad($0.method, width + 2) }.joined())
            for place in 0..<players.count {
                print(pad(String(place + 1), 6) + entries.map { pad($0.ranking[place], width + 2) }.joined())
            }
            print(pad("secs", 6) + entries.map { pad(String(format: "%.3f", $0.wall_seconds), width + 2) }.joined())
            if !pairs.isEmpty {
                print("")
                print("pairwise agreement (Spearman ρ, Kendall τ-b, top-\(k) overlap):")
                let nameWidth = entries.map(\.method.count).max() ?? 0
                func number(_ x: Double?) -> String { x.map { String(format: "%6.3f", $0) } ?? "   n/a" }
                for pair in pairs {
                    print("  " + pad(pair.a, nameWidth) + "  " + pad(pair.b, nameWidth) + "  " + number(pair.spearman) + "  "
                          + number(pair.kendall_tau_b) + "  " + String(format: "%4.2f", pair.top_k_overlap))
                }
            }
            for (method, reason) in skipped.sorted(by: { $0.key < $1.key }) { print("skipped \(method): \(reason)") }
        }
    }

    /// Spearman's ρ, Kendall's τ-b and top-k overlap of every two methods (``MethodAgreement``).
    static func agreement(_ results: [GlobalImportance], k: Int) throws -> [Pair] {
        try MethodAgreement.pairwise(results, k: k).map {
            Pair(a: $0.a, b: $0.b, spearman: $0.spearman, kendall_tau_b: $0.kendallTauB, top_k_overlap: $0.topKOverlap)
        }
    }

    /// The ScoresActivation readout: feature weights `softmax(s/τ)`, summed over each player's
    /// columns, when the model has the layer.
    func scoresActivationReadout(_ context: ExplanationSetup) -> GlobalImportance? {
        guard let scores = try? FeatureScores.read(from: context.bundle.model, featureNames: context.bundle.featureNames),
              scores.weights.count == context.players.features else { return nil }
        let weights = context.players.groups.map { $0.reduce(0) { $0 + scores.weights[$1] } }
        return GlobalImportance(method: "scores-activation", names: context.players.names, scores: weights,
                                audit: Audit(settings: ["readout": "softmax(scores / temperature)", "layer": scores.layerPath]))
    }
}
