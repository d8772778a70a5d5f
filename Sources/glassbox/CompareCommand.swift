import ArgumentParser
import Foundation
import Glassbox

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Global feature rankings of one model by every explainer, side by side, with wall times.",
        discussion: """
            Runs the ScoresActivation readout (when the model has that layer) and each post-hoc method on the same
            rows and background, and ranks features by mean |attribution| (permutation importance: by accuracy drop).
            Example: glassbox compare --model model.safetensors --data test.csv --rows 100 --json
            """
    )

    @OptionGroup var setup: ExplanationSetupOptions
    @Option(help: "Coalitions per row for kernel-shap and permutation-shap (default 2·features + 2048, for kernel-shap counting only features that differ from the background).") var budget: Int?
    @Flag(help: "Print one JSON object instead of a table.") var json = false

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

    struct Report: Codable {
        var rows: Int
        var features: [String]
        var output: String
        var input_space = "standardized"
        var methods: [Entry]
        var skipped: [String: String]
    }

    func run() throws {
        try reportingErrors {
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
            for explainer in explainers {
                results.append(try explainer.explain(rows, model: f).globalImportance())
            }
            if let labels = context.labels {
                // Global and cheap: on every labelled row, not only the explained ones.
                results.append(try PermutationImportance(players: players, seed: setup.seed)
                    .importance(of: f, data: context.inputs, labels: labels))
            } else {
                skipped["permutation"] = "no target column in the data"
            }
            let entries = results.map { r in
                Entry(method: r.method, wall_seconds: r.audit.wallSeconds, model_evaluations: r.audit.modelEvaluations,
                      gradient_evaluations: r.audit.gradientEvaluations, ranking: r.ranking.map { r.names[$0] },
                      global_importance: ExplainText.ranked(r))
            }
            if json {
                try printJSON(Report(rows: rows.shape[0], features: players.names, output: f.output.rawValue, methods: entries, skipped: skipped))
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
            for (method, reason) in skipped.sorted(by: { $0.key < $1.key }) { print("skipped \(method): \(reason)") }
        }
    }

    /// The ScoresActivation layer's global ranking: feature weights `softmax(s)` of its scores.
    func scoresActivationReadout(_ context: ExplanationSetup) -> GlobalImportance? {
        func find(_ layer: any Layer) -> (any Layer)? {
            if layer.spec.type == "ScoresActivation" { return layer }
            for child in layer.children { if let found = find(child.layer) { return found } }
            return nil
        }
        guard let layer = find(context.bundle.model), let scores = layer.parameters.first?.variable.value,
              scores.count == context.players.count else { return nil }
        let m = scores.scalars.max()!
        let e = scores.scalars.map { Foundation.exp(Double($0 - m)) }
        let total = e.reduce(0, +)
        return GlobalImportance(method: "scores-activation", names: context.players.names, scores: e.map { $0 / total },
                                audit: Audit(settings: ["readout": "softmax(scores)"]))
    }
}
