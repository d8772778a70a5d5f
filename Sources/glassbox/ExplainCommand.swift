import ArgumentParser
import Foundation
import Glassbox

/// Options shared by `explain` and `compare`: which model, which rows, which background.
struct ExplanationSetupOptions: ParsableArguments {
    @Option(help: "Model file saved by `glassbox train` (.safetensors).") var model: String
    @Option(help: "CSV with a header; the model's feature columns are picked by name and standardised with the model's scaler.")
    var data: String
    @Option(help: "Explain the first N rows of the data (default: all).") var rows: Int?
    @Option(help: "Background rows drawn from the data for Shapley methods.") var background = 100
    @Flag(help: "Summarise the data by k-means (--background centres, weighted) instead of sampling rows.") var kmeans = false
    @Option(help: "CSV of background rows to use as given (same columns as --data) instead of drawing them from --data.")
    var backgroundData: String?
    @Option(help: "Seed for every random choice.") var seed: UInt64 = 0
    @Option(help: "Explain class probabilities or logits: probability | logit.") var output = "probability"

    func validate() throws {
        guard rows.map({ $0 > 0 }) ?? true else { throw ValidationError("--rows must be positive") }
        guard background > 0 else { throw ValidationError("--background must be positive") }
        guard PredictionFunction.Output(rawValue: output) != nil, output != "custom" else {
            throw ValidationError("--output must be probability or logit, got '\(output)'")
        }
    }

    /// Caps on the sizes these options set (``Limits``).
    func checkLimits() throws {
        try Limits.checkCount(background, option: "--background")
        if let rows { try Limits.checkCount(rows, option: "--rows", maximum: Int.max) }
    }

    /// Every file these options read, for ``OutputGuard``.
    var inputFiles: [OutputGuard.Input] { [("--model", model), ("--data", data), ("--background-data", backgroundData)] }

    /// The loaded model, its inputs (standardised) and labels, the rows to explain and the background.
    func load() throws -> ExplanationSetup {
        let bundle = try ExplainableModel.load(from: URL(fileURLWithPath: model))
        let (inputs, labels) = try bundle.rows(fromCSV: URL(fileURLWithPath: data))
        let n = min(rows ?? inputs.shape[0], inputs.shape[0])
        let d = inputs.shape[1]
        let explained = Tensor(uncheckedShape: [n, d], scalars: Array(inputs.scalars[0..<(n * d)]))
        let reference: Background
        if let backgroundData {
            reference = try Background(try bundle.rows(fromCSV: URL(fileURLWithPath: backgroundData)).inputs,
                                       summary: "rows of \(backgroundData)")
        } else if kmeans {
            reference = try Background.kMeans(inputs, clusters: background, seed: seed)
        } else {
            reference = try Background.sample(from: inputs, count: background, seed: seed)
        }
        let function = try bundle.predictionFunction(PredictionFunction.Output(rawValue: output)!)
        return ExplanationSetup(bundle: bundle, inputs: inputs, labels: labels, rows: explained, background: reference,
                                function: function, players: bundle.players)
    }
}

struct ExplanationSetup {
    let bundle: ExplainableModel
    let inputs: Tensor
    let labels: [Int]?
    let rows: Tensor
    let background: Background
    let function: PredictionFunction
    let players: Players

    var classNames: [String] { bundle.classNames ?? (0..<function.outputs).map(String.init) }

    /// The class index named by `text` (a class name or an index).
    func classIndex(_ text: String) throws -> Int {
        if let i = classNames.firstIndex(of: text) { return i }
        if let i = Int(text), (0..<function.outputs).contains(i) { return i }
        throw GlassboxError.invalidArgument("--class '\(text)' is neither a class name (\(classNames.joined(separator: ", "))) nor an index below \(function.outputs)")
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Attribute a trained model's predictions to its input features.",
        discussion: """
            Methods: kernel-shap, exact-shapley, permutation-shap (Shapley values of the interventional game over a \
            background drawn from --data; shapley picks exact-shapley when enumerating costs at most 32× Kernel SHAP's \
            model evaluations, kernel-shap otherwise, and says which in the audit), integrated-gradients, saliency, gradient-input, smoothgrad (gradients of the \
            model), permutation (global permutation importance; needs the target column in --data). \
            Attributions are in the model's input space: standardised features (z-scores), not raw units.
            --out writes the attributions to FILE.npy ([rows, classes, features] float32), FILE.csv (row,class,features…) \
            or FILE.json (the --json object with every attribution); permutation writes its importances likewise.
            Example: glassbox explain --model model.safetensors --data test.csv --method kernel-shap --rows 20 --json
            Example: glassbox explain --model model.safetensors --data test.csv --method integrated-gradients --out ig.npy
            """
    )

    static let methods = ["shapley", "kernel-shap", "exact-shapley", "permutation-shap", "integrated-gradients", "saliency",
                          "gradient-input", "smoothgrad", "permutation"]

    @OptionGroup var setup: ExplanationSetupOptions
    @Option(help: "One of: \(methods.joined(separator: ", ")).") var method: String
    @Option(help: "Coalitions per row for kernel-shap and permutation-shap (default 2·features + 2048, for kernel-shap counting only features that differ from the background).") var budget: Int?
    @Option(help: "shapley, kernel-shap and permutation-shap: sample each row until every attribution's standard error is below ε × (its largest − smallest attribution) (Covert & Lee 2021), e.g. 0.01; --budget is the first round's.")
    var tolerance: Double?
    @Option(help: "With --tolerance: the most coalitions a row may use (default 65536).") var budgetLimit: Int?
    @Option(name: .customLong("class"), parsing: .unconditional, help: "Class (name or index) to print and rank; gradient methods compute only it. Default: all classes computed, the last printed.")
    var className: String?
    @Option(help: "Integrated Gradients steps.") var steps = 50
    @Option(help: "SmoothGrad noisy samples per row.") var samples = 50
    @Option(help: "SmoothGrad noise σ, in standardised units.") var noise: Float = 0.15
    @Option(help: "Permutation importance repeats.") var repeats = 5
    @Option(help: "Permutation importance metric: accuracy | log-loss.") var metric = "accuracy"
    @Option(help: "Write attributions [rows, classes, features] to FILE.npy, FILE.csv or FILE.json (chosen by the extension; written atomically) instead of printing them.")
    var out: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output on standard error.") var quiet = false

    func validate() throws {
        guard ExplainCommand.methods.contains(method) else {
            throw ValidationError("unknown --method '\(method)' (one of: \(ExplainCommand.methods.joined(separator: ", ")))")
        }
        guard PermutationImportance.Metric(rawValue: metric) != nil else { throw ValidationError("--metric must be accuracy or log-loss") }
        if let tolerance {
            guard tolerance > 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a positive number, got \(tolerance)") }
            guard ["shapley", "kernel-shap", "permutation-shap"].contains(method) else {
                throw ValidationError("--tolerance applies to shapley, kernel-shap and permutation-shap, not \(method)")
            }
        }
        if let budgetLimit, budgetLimit < 1 || tolerance == nil {
            throw ValidationError(budgetLimit < 1 ? "--budget-limit must be positive, got \(budgetLimit)" : "--budget-limit needs --tolerance")
        }
        if let out, ExportFormat.of(out) == nil {
            throw ValidationError(ExportFormat.advice(out, allowed: [".npy", ".csv", ".json"]))
        }
    }

    func run() throws {
        try reportingErrors {
            try OutputGuard.check(output: out, inputs: setup.inputFiles)
            try Limits.checkCount(steps, option: "--steps")
            try Limits.checkCount(samples, option: "--samples")
            try Limits.checkCount(repeats, option: "--repeats")
            if let budget { try Limits.checkCount(budget, option: "--budget") }
            try setup.checkLimits()
            let context = try setup.load()
            let selected = try className.map { try context.classIndex($0) }
            if method == "permutation" {
                try runPermutationImportance(context)
                return
            }
            let explainer = try makeExplainer(context, selected: selected)
            let explanation = try withStatus("\(method): explaining \(context.rows.shape[0]) rows × \(context.players.count) features",
                                             style: .choose(quiet: quiet, json: json)) {
                try explainer.explain(context.rows, model: context.function)
            }
            let slice = selected.flatMap { explanation.outputs.firstIndex(of: $0) } ?? explanation.outputs.count - 1
            let importance = explanation.globalImportance(slices: selected == nil ? nil : [slice])
            if let out {
                try write(explanation, classNames: context.classNames, to: out,
                          json: ExplanationReport(explanation, context: context, importance: importance, includeValues: true, out: nil))
            }
            if json {
                try printJSON(ExplanationReport(explanation, context: context, importance: importance, includeValues: out == nil, out: out))
            } else {
                printText(explanation, context: context, slice: slice, importance: importance)
            }
        }
    }

    func makeExplainer(_ context: ExplanationSetup, selected: Int?) throws -> any LocalExplainer {
        let outputs = selected.map { [$0] }
        switch method {
        case "kernel-shap": return KernelSHAP(background: context.background, players: context.players, budget: budget, seed: setup.seed,
                                              tolerance: tolerance, budgetLimit: budgetLimit)
        case "exact-shapley": return ExactShapley(background: context.background, players: context.players)
        case "shapley": return AutomaticShapley(background: context.background, players: context.players, budget: budget, seed: setup.seed,
                                                tolerance: tolerance, budgetLimit: budgetLimit)
        case "permutation-shap": return PermutationSHAP(background: context.background, players: context.players, budget: budget, seed: setup.seed,
                                                        tolerance: tolerance, budgetLimit: budgetLimit)
        case "integrated-gradients": return IntegratedGradients(steps: steps, outputs: outputs, players: context.players)
        case "saliency": return Saliency(outputs: outputs, players: context.players)
        case "gradient-input": return GradientTimesInput(outputs: outputs, players: context.players)
        default: return SmoothGrad(noise: noise, samples: samples, seed: setup.seed, outputs: outputs, players: context.players)
        }
    }

    func runPermutationImportance(_ context: ExplanationSetup) throws {
        guard let labels = context.labels else {
            throw GlassboxError.invalidArgument("permutation importance needs labels: \(setup.data) has no target column '\(context.bundle.target ?? "?")'")
        }
        let n = context.rows.shape[0]
        let importance = try withStatus("permutation importance: \(repeats) repeats × \(context.players.count) features on \(n) rows",
                                        style: .choose(quiet: quiet, json: json)) {
            try PermutationImportance(metric: PermutationImportance.Metric(rawValue: metric)!, repeats: repeats,
                                      players: context.players, seed: setup.seed)
                .importance(of: context.function, data: context.rows, labels: Array(labels[0..<n]))
        }
        if let out {
            try ExportFormat.write(out, npy: {
                Tensor(uncheckedShape: [importance.scores.count], scalars: importance.scores.map(Float.init))
            }, csv: {
                "feature,importance,spread\n" + importance.names.indices.map {
                    "\(ExplainText.csvField(importance.names[$0])),\(importance.scores[$0]),\(importance.spread?[$0] ?? 0)"
                }.joined(separator: "\n") + "\n"
            }, json: { try ExportFormat.jsonData(ImportanceReport(importance, rows: n)) })
        }
        if json {
            try printJSON(ImportanceReport(importance, rows: n))
        } else {
            print("permutation importance (\(metric) \(metric == "accuracy" ? "drop" : "increase") when a feature is shuffled; \(repeats) repeats, seed \(setup.seed)) on \(n) rows")
            print("baseline \(metric): \(importance.audit.settings["baseline_score"] ?? "?")")
            ExplainText.printRanking(importance)
            print(ExplainText.audit(importance.audit))
        }
    }

    func printText(_ e: Explanation, context: ExplanationSetup, slice: Int, importance: GlobalImportance) {
        let classIndex = e.outputs[slice]
        print("\(e.method): \(e.rows) rows × \(e.players.count) features, \(context.function.output.rawValue) of class '\(context.classNames[classIndex])'")
        print("attributions are in the model's input space: standardised features (z-scores), not raw units")
        if out == nil {
            let names = e.players.names
            let header = ["row", "f(x)"] + (e.reference == nil ? [] : ["base"]) + names
            print(header.joined(separator: "\t"))
            for r in 0..<e.rows {
                var cells = [String(r), ExplainText.number(e.predictions.scalars[r * e.outputs.count + slice])]
                if let reference = e.reference { cells.append(ExplainText.number(reference.scalars[r * e.outputs.count + slice])) }
                cells += e.attributions(row: r, slice: slice).map(ExplainText.number)
                print(cells.joined(separator: "\t"))
                if let errors = e.standardErrors(row: r, slice: slice) {
                    let pad = [String](repeating: "", count: e.reference == nil ? 1 : 2)
                    print((["± se"] + pad + errors.map { $0.isNaN ? "n/a" : ExplainText.number($0) }).joined(separator: "\t"))
                }
            }
        } else {
            print("attributions [\(e.rows), \(e.outputs.count), \(e.players.count)] written to \(out!)")
        }
        print("global ranking (mean |φ| over rows\(className == nil ? " and classes" : "")):")
        ExplainText.printRanking(importance)
        print(ExplainText.audit(e.audit))
    }

    /// Writes the attributions by the extension of `path`: NPY `[rows, classes, features]`
    /// float32; CSV with one line per (row, class) — `row,class,<feature>…`; JSON the same object
    /// as `--json` prints, attributions included.
    func write(_ e: Explanation, classNames: [String], to path: String, json: ExplanationReport) throws {
        try ExportFormat.write(path, npy: { e.values }, csv: {
            var csv = "row,class," + e.players.names.map(ExplainText.csvField).joined(separator: ",") + "\n"
            for r in 0..<e.rows {
                for (s, c) in e.outputs.enumerated() {
                    csv += "\(r),\(ExplainText.csvField(classNames[c])),"
                    csv += e.attributions(row: r, slice: s).map { String($0) }.joined(separator: ",") + "\n"
                }
            }
            return csv
        }, json: { try ExportFormat.jsonData(json) })
    }
}

/// Text and CSV formatting shared by `explain` and `compare`.
enum ExplainText {
    static func number(_ v: Float) -> String { String(format: "%.4g", Double(v)) }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func printRanking(_ importance: GlobalImportance) {
        for (place, i) in importance.ranking.enumerated() {
            let spread = importance.spread.map { String(format: " ± %.4g", $0[i]) } ?? ""
            print(String(format: "%3d. %@  %.4g", place + 1, importance.names[i], importance.scores[i]) + spread)
        }
    }

    static func audit(_ audit: Audit) -> String {
        var parts = [String(format: "%.3f s", audit.wallSeconds)]
        if let seed = audit.seed { parts.append("seed \(seed)") }
        if audit.modelEvaluations > 0 { parts.append("\(audit.modelEvaluations) model evaluations") }
        if audit.gradientEvaluations > 0 { parts.append("\(audit.gradientEvaluations) gradient evaluations") }
        if let gap = audit.maxCompletenessGap { parts.append(String(format: "max completeness gap %.3g", gap)) }
        parts += audit.settings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "audit: " + parts.joined(separator: ", ")
    }

    /// Players by importance, as JSON rows.
    static func ranked(_ importance: GlobalImportance) -> [RankedFeature] {
        importance.ranking.map { RankedFeature(name: importance.names[$0], score: importance.scores[$0], spread: importance.spread?[$0]) }
    }
}

/// The audit as JSON (snake_case).
struct AuditReport: Codable {
    var seed: UInt64?
    var model_evaluations: Int
    var gradient_evaluations: Int
    var wall_seconds: Double
    var max_completeness_gap: Double?
    var settings: [String: String]

    init(_ a: Audit) {
        (seed, model_evaluations, gradient_evaluations, wall_seconds, max_completeness_gap, settings) =
            (a.seed, a.modelEvaluations, a.gradientEvaluations, a.wallSeconds, a.maxCompletenessGap, a.settings)
    }
}

struct RankedFeature: Codable {
    var name: String
    var score: Double
    var spread: Double?
}

struct ExplanationReport: Codable {
    var method: String
    var rows: Int
    var features: [String]
    var classes: [String]
    var explained_classes: [Int]
    var output: String
    var input_space = "standardized"
    var attributions: [[[Float]]]?
    /// Standard errors of sampled attributions, the same shape (null where too few samples).
    var standard_errors: [[[Float?]]]?
    var predictions: [[Float]]
    var base_values: [[Float]]?
    var completeness_gap: [[Float]]?
    var global_importance: [RankedFeature]
    var audit: AuditReport
    var out: String?

    init(_ e: Explanation, context: ExplanationSetup, importance: GlobalImportance, includeValues: Bool, out: String?) {
        let (n, o) = (e.rows, e.outputs.count)
        func matrix(_ t: Tensor) -> [[Float]] { (0..<n).map { Array(t.scalars[($0 * o)..<(($0 + 1) * o)]) } }
        method = e.method
        rows = n
        features = e.players.names
        classes = context.classNames
        explained_classes = e.outputs
        output = context.function.output.rawValue
        attributions = includeValues ? (0..<n).map { r in (0..<o).map { e.attributions(row: r, slice: $0) } } : nil
        standard_errors = includeValues && e.standardErrors != nil
            ? (0..<n).map { r in (0..<o).map { e.standardErrors(row: r, slice: $0)!.map { $0.isNaN ? nil : $0 } } } : nil
        predictions = matrix(e.predictions)
        base_values = e.reference.map(matrix)
        completeness_gap = e.completenessGap.map(matrix)
        global_importance = ExplainText.ranked(importance)
        audit = AuditReport(e.audit)
        self.out = out
    }
}

struct ImportanceReport: Codable {
    var method: String
    var rows: Int
    var input_space = "standardized"
    var global_importance: [RankedFeature]
    var audit: AuditReport

    init(_ importance: GlobalImportance, rows: Int) {
        method = importance.method
        self.rows = rows
        global_importance = ExplainText.ranked(importance)
        audit = AuditReport(importance.audit)
    }
}
