import Foundation
import GlassboxNN

/// Everything an HTML report shows, as plain Codable values: what `glassbox demo` saves as
/// `glassbox-results.json` and `glassbox report --from` reads back.
///
/// The model holds results, not models: numbers, names and small images. Every part is optional
/// except the title, so a report can show only a tabular or only an image study. Undefined
/// statistics (a rank correlation of a constant vector) are `nil`, never NaN, so the JSON stays
/// standard. ``validate()`` checks that every array has the length its siblings imply before
/// anything is drawn.
///
/// JSON: keys are snake_case (``ReportFile`` encodes and decodes them); `format` must be
/// ``currentFormat``.
public struct ReportData: Codable, Sendable, Equatable {
    /// The format tag written into every results file.
    public static let currentFormat = "glassbox-report/1"

    /// ``currentFormat`` for files this version writes.
    public var format: String
    /// Page title (user text: escaped when rendered).
    public var title: String
    /// The command that produced the results, shown in the page header.
    public var generator: String?
    /// When the results were produced (ISO 8601, UTC).
    public var createdAt: String?
    /// Wall time of the whole run, in seconds.
    public var seconds: Double?
    /// Free-form remarks shown under the title.
    public var notes: [String]
    /// The tabular study: ranking, explainers, agreement.
    public var tabular: TabularReport?
    /// The image study: inputs, heatmaps, insertion/deletion curves.
    public var image: ImageReport?

    /// Memberwise initialiser; see the properties.
    public init(title: String, generator: String? = nil, createdAt: String? = nil, seconds: Double? = nil,
                notes: [String] = [], tabular: TabularReport? = nil, image: ImageReport? = nil) {
        self.format = Self.currentFormat
        (self.title, self.generator, self.createdAt, self.seconds, self.notes) = (title, generator, createdAt, seconds, notes)
        (self.tabular, self.image) = (tabular, image)
    }
}

/// What a dataset is and how it was split.
public struct DataSummary: Codable, Sendable, Equatable {
    /// Dataset name (user text).
    public var name: String
    /// Where it comes from / its licence (user text).
    public var source: String?
    /// Rows (or images) in the whole dataset.
    public var rows: Int
    /// Input columns (tabular) or `channels×height×width` (images), as text.
    public var shape: String
    /// One name per class (user text).
    public var classNames: [String]
    /// Rows per class, in class order (optional).
    public var classCounts: [Int]?
    /// Sizes of the split parts (optional).
    public var trainRows: Int?, validationRows: Int?, testRows: Int?

    /// Memberwise initialiser; see the properties.
    public init(name: String, source: String? = nil, rows: Int, shape: String, classNames: [String],
                classCounts: [Int]? = nil, trainRows: Int? = nil, validationRows: Int? = nil, testRows: Int? = nil) {
        (self.name, self.source, self.rows, self.shape, self.classNames) = (name, source, rows, shape, classNames)
        (self.classCounts, self.trainRows, self.validationRows, self.testRows) = (classCounts, trainRows, validationRows, testRows)
    }
}

/// A trained model: architecture, training settings and its held-out accuracy per seed.
public struct ModelSummary: Codable, Sendable, Equatable {
    /// Architecture, e.g. `ScoresActivation → MLP 30→64→32→2` (user text).
    public var architecture: String
    /// Trainable parameters.
    public var parameters: Int?
    /// Optimiser, batch size, stopping rule (user text).
    public var training: String?
    /// The seeds trained, in order.
    public var seeds: [UInt64]
    /// Test accuracy in [0, 1], one per seed.
    public var testAccuracy: [Double]
    /// Epochs run, one per seed.
    public var epochs: [Int]?

    /// Memberwise initialiser; see the properties.
    public init(architecture: String, parameters: Int? = nil, training: String? = nil, seeds: [UInt64],
                testAccuracy: [Double], epochs: [Int]? = nil) {
        (self.architecture, self.parameters, self.training) = (architecture, parameters, training)
        (self.seeds, self.testAccuracy, self.epochs) = (seeds, testAccuracy, epochs)
    }
}

/// The tabular study of one dataset.
public struct TabularReport: Codable, Sendable, Equatable {
    /// The dataset the model was trained on.
    public var data: DataSummary
    /// The trained model.
    public var model: ModelSummary
    /// One name per model input (user text); every per-feature array below has this length.
    public var featureNames: [String]
    /// The ScoresActivation weights of every seed (the bar chart with error bars).
    public var ranking: FeatureRanking?
    /// The ScoresActivation weights after every epoch of one run (the line chart).
    public var trajectory: ScoreTrajectory?
    /// Global importance by each method (ScoresActivation, Kernel SHAP, permutation, …).
    public var methods: [MethodImportance]
    /// Per-row attributions of one method (the SHAP-style strip plot).
    public var attributions: RowAttributions?
    /// Pairwise agreement of the methods' rankings (the heatmap matrix).
    public var agreement: AgreementMatrix?

    /// Memberwise initialiser; see the properties.
    public init(data: DataSummary, model: ModelSummary, featureNames: [String], ranking: FeatureRanking? = nil,
                trajectory: ScoreTrajectory? = nil, methods: [MethodImportance] = [], attributions: RowAttributions? = nil,
                agreement: AgreementMatrix? = nil) {
        (self.data, self.model, self.featureNames, self.ranking, self.trajectory) = (data, model, featureNames, ranking, trajectory)
        (self.methods, self.attributions, self.agreement) = (methods, attributions, agreement)
    }
}

/// One importance per feature from each of several seeds.
public struct FeatureRanking: Codable, Sendable, Equatable {
    /// What the values are, e.g. `ScoresActivation weight w = softmax(s)`.
    public var method: String
    /// The seeds, one per row of ``values``.
    public var seeds: [UInt64]
    /// `[seeds][features]` importances.
    public var values: [[Double]]
    /// Mean Spearman ρ between the rankings of pairs of seeds (nil when undefined).
    public var meanPairwiseSpearman: Double?

    /// Memberwise initialiser; see the properties.
    public init(method: String, seeds: [UInt64], values: [[Double]], meanPairwiseSpearman: Double? = nil) {
        (self.method, self.seeds, self.values, self.meanPairwiseSpearman) = (method, seeds, values, meanPairwiseSpearman)
    }

    /// Per feature: the mean over seeds. Cost: O(seeds·features).
    public var mean: [Double] {
        guard let first = values.first else { return [] }
        return first.indices.map { j in values.reduce(0) { $0 + $1[j] } / Double(values.count) }
    }

    /// Per feature: the sample standard deviation over seeds (`n − 1` in the denominator; 0 for one seed).
    public var standardDeviation: [Double] {
        let m = mean, n = Double(values.count)
        guard values.count > 1 else { return m.map { _ in 0 } }
        return m.indices.map { j in (values.reduce(0) { $0 + ($1[j] - m[j]) * ($1[j] - m[j]) } / (n - 1)).squareRoot() }
    }
}

/// The readout of a ScoresActivation layer after every epoch of one training run.
public struct ScoreTrajectory: Codable, Sendable, Equatable {
    /// The run's seed.
    public var seed: UInt64
    /// `[epochs][features]`: `values[e]` after epoch `e + 1`.
    public var values: [[Double]]
    /// The epoch whose weights the model kept (1-based), drawn as a marker.
    public var bestEpoch: Int?
    /// The first epoch from which the ranking no longer changed (1-based).
    public var stableEpoch: Int?

    /// Memberwise initialiser; see the properties.
    public init(seed: UInt64, values: [[Double]], bestEpoch: Int? = nil, stableEpoch: Int? = nil) {
        (self.seed, self.values, self.bestEpoch, self.stableEpoch) = (seed, values, bestEpoch, stableEpoch)
    }
}

/// One method's global feature importance.
public struct MethodImportance: Codable, Sendable, Equatable {
    /// Method name, e.g. `kernel-shap` (user text).
    public var method: String
    /// One importance per feature, larger = more important.
    public var importance: [Double]
    /// Optional spread per feature (standard deviation over repeats or seeds).
    public var spread: [Double]?
    /// Wall time of the method, in seconds.
    public var seconds: Double?
    /// How the importance was computed (user text).
    public var note: String?

    /// Memberwise initialiser; see the properties.
    public init(method: String, importance: [Double], spread: [Double]? = nil, seconds: Double? = nil, note: String? = nil) {
        (self.method, self.importance, self.spread, self.seconds, self.note) = (method, importance, spread, seconds, note)
    }
}

/// Local attributions of several rows, with the rows' feature values (for colouring the dots).
public struct RowAttributions: Codable, Sendable, Equatable {
    /// The method, e.g. `kernel-shap`.
    public var method: String
    /// The class whose output is explained (user text).
    public var className: String
    /// `[rows][features]` attributions φ.
    public var values: [[Double]]
    /// `[rows][features]` inputs the attributions explain (standardised), or nil.
    public var featureValues: [[Double]]?

    /// Memberwise initialiser; see the properties.
    public init(method: String, className: String, values: [[Double]], featureValues: [[Double]]? = nil) {
        (self.method, self.className, self.values, self.featureValues) = (method, className, values, featureValues)
    }
}

/// Pairwise agreement between the rankings of several methods: symmetric matrices with 1 on the
/// diagonal, `nil` where a statistic is undefined.
public struct AgreementMatrix: Codable, Sendable, Equatable {
    /// The methods, in row/column order (user text).
    public var methods: [String]
    /// `k` of the top-k overlap.
    public var k: Int
    /// Spearman ρ, `[methods][methods]`.
    public var spearman: [[Double?]]
    /// Kendall τ-b, `[methods][methods]`.
    public var kendall: [[Double?]]
    /// `|top_k(a) ∩ top_k(b)| / k`, `[methods][methods]`.
    public var topK: [[Double?]]

    /// Memberwise initialiser; see the properties.
    public init(methods: [String], k: Int, spearman: [[Double?]], kendall: [[Double?]], topK: [[Double?]]) {
        (self.methods, self.k, self.spearman, self.kendall, self.topK) = (methods, k, spearman, kendall, topK)
    }
}

/// The image study: a model and a few explained images.
public struct ImageReport: Codable, Sendable, Equatable {
    /// The dataset the model was trained on.
    public var data: DataSummary
    /// The trained model.
    public var model: ModelSummary
    /// How the explanations were made (user text), e.g. the explainer and its settings.
    public var explainer: String?
    /// The explained images, in order.
    public var examples: [ImageExample]

    /// Memberwise initialiser; see the properties.
    public init(data: DataSummary, model: ModelSummary, explainer: String? = nil, examples: [ImageExample]) {
        (self.data, self.model, self.explainer, self.examples) = (data, model, explainer, examples)
    }
}

/// One explained image: its pixels and one heatmap (with curves) per method.
public struct ImageExample: Codable, Sendable, Equatable {
    /// A label for the image, e.g. `test image 12` (user text).
    public var name: String
    /// True and predicted class names (user text) and the predicted probability.
    public var trueClass: String, predictedClass: String
    /// The model's probability of the predicted class.
    public var confidence: Double
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// Size in pixels.
    public var height: Int, width: Int
    /// `channels·height·width` values in [0, 1] (channel-major, then row-major); values outside
    /// are clamped when drawn.
    public var pixels: [Double]
    /// One heatmap per method, in display order.
    public var explanations: [ImageExplanation]

    /// Memberwise initialiser; see the properties.
    public init(name: String, trueClass: String, predictedClass: String, confidence: Double, channels: Int = 1,
                height: Int, width: Int, pixels: [Double], explanations: [ImageExplanation]) {
        (self.name, self.trueClass, self.predictedClass, self.confidence) = (name, trueClass, predictedClass, confidence)
        (self.channels, self.height, self.width, self.pixels, self.explanations) = (channels, height, width, pixels, explanations)
    }
}

/// One method's heatmap of an image, with its insertion and deletion curves.
public struct ImageExplanation: Codable, Sendable, Equatable {
    /// Method name, e.g. `responsibility (AD)` (user text).
    public var method: String
    /// `height·width` scores, higher = more important (row-major).
    public var map: [Double]
    /// Insertion curve (target probability as pixels are restored, most important first).
    public var insertion: CurveData?
    /// Deletion curve (target probability as pixels are removed, most important first).
    public var deletion: CurveData?
    /// Model evaluations and wall time spent.
    public var evaluations: Int?
    /// Wall time in seconds.
    public var seconds: Double?

    /// Memberwise initialiser; see the properties.
    public init(method: String, map: [Double], insertion: CurveData? = nil, deletion: CurveData? = nil,
                evaluations: Int? = nil, seconds: Double? = nil) {
        (self.method, self.map, self.insertion, self.deletion, self.evaluations, self.seconds) =
            (method, map, insertion, deletion, evaluations, seconds)
    }
}

/// An insertion or deletion curve: the target's probability as pixels are moved.
public struct CurveData: Codable, Sendable, Equatable {
    /// Fraction of pixels moved, increasing from 0 to 1.
    public var fractions: [Double]
    /// Target probability at each fraction.
    public var probabilities: [Double]
    /// Trapezoid area under the curve.
    public var auc: Double

    /// Memberwise initialiser; see the properties.
    public init(fractions: [Double], probabilities: [Double], auc: Double) {
        (self.fractions, self.probabilities, self.auc) = (fractions, probabilities, auc)
    }
}
